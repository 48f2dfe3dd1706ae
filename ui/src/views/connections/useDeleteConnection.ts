// Deleting a saved connection: the one asked about, then the delete (the list
// drops it at once and is reloaded); a failure stays in the dialog.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Connection } from '../../api/types';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

export function useDeleteConnection(remove: (id: string) => void, reload: () => Promise<void>) {
  const t = useT();
  const toast = useToast();
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const confirm = async () => {
    if (!deleting) return;
    setBusy(true);
    setError(null);
    try {
      await api.connectionDelete(deleting.id);
      remove(deleting.id);
      toast.push({ kind: 'ok', title: t('connections.deleted', { name: deleting.name }) });
      setDeleting(null);
      void reload();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return {
    deleting,
    busy,
    error,
    confirm,
    ask: (c: Connection) => {
      setError(null);
      setDeleting(c);
    },
    cancel: () => setDeleting(null),
  };
}

export type DeleteConnection = ReturnType<typeof useDeleteConnection>;
