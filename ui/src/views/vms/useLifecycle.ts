// A lifecycle pass on demand (expired leases, reminders...): busy while it
// runs, then a toast with how many actions ran and failed.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

export function useLifecycle(connId: string, onDone: () => void) {
  const t = useT();
  const toast = useToast();
  const [busy, setBusy] = useState(false);

  const run = async () => {
    setBusy(true);
    try {
      const actions = await api.vmsLifecycle(connId);
      const failed = actions.filter((a) => !a.ok).length;
      toast.push({ kind: failed ? 'error' : 'ok', title: t('vms.lifecycle.done', { count: actions.length, failed }) });
      onDone();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      setBusy(false);
    }
  };

  return { busy, run };
}
