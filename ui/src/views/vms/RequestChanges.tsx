// What can still change about a request after it was filed: its requester
// edits (every decision starts over) or withdraws it (no VM yet) or asks to extend a provisioned VM's lease; the
// department's manager decides an extension. Who may do what is decided by
// the backend (the etcd user of the store); a refusal is shown as it comes.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { VmRequest } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { formatDateTime } from '../../util/time';

const WITHDRAWABLE: VmRequest['state'][] = ['pending_manager', 'pending_admin', 'approved', 'rejected', 'failed'];
const EXT_BADGE = { pending: 'warn', approved: 'ok', rejected: 'error' } as const;

export function RequestChanges({ request: r, onChanged, onEdit }: { request: VmRequest; onChanged: (r: VmRequest) => void; onEdit: () => void }) {
  const t = useT();
  const [text, setText] = useState('');
  const [until, setUntil] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (call: () => Promise<VmRequest>) => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await call());
      setText('');
      setUntil('');
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const pending = r.extensions.find((e) => e.state === 'pending');
  return (
    <div class="vm-changes" data-testid="vm-changes">
      {r.extensions.length > 0 && (
        <>
          <h3 class="vm-h3">{t('vms.extension.title')}</h3>
          <ul class="vm-extensions">
            {r.extensions.map((e) => (
              <li key={e.n} data-testid="vm-extension" data-state={e.state}>
                <StatusBadge state={EXT_BADGE[e.state]}>{t(`vms.extension.state.${e.state}`)}</StatusBadge> <span class="mono">{e.lease_end}</span> — {e.reason}{' '}
                <span class="muted">{formatDateTime(e.at)}</span>
                {e.decision && <span class="muted"> · {e.decision.actor}{e.decision.comment ? `: ${e.decision.comment}` : ''}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {error && (
        <div class="banner banner-error" role="alert" data-testid="vm-change-error">
          {error}
        </div>
      )}
      {(WITHDRAWABLE.includes(r.state) || r.state === 'provisioned') && (
        <textarea class="input" rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder={t('vms.extension.reasonHint')} data-testid="vm-change-text" />
      )}
      <div class="vm-actions">
        {WITHDRAWABLE.includes(r.state) && (
          <>
            <button type="button" class="btn" disabled={busy} onClick={onEdit} data-testid="vm-edit">
              {t('vms.extension.edit')}
            </button>
            <button type="button" class="btn btn-danger-ghost" disabled={busy} onClick={() => void run(() => api.vmsWithdraw(r.id, text))} data-testid="vm-withdraw">
              {t('vms.extension.withdraw')}
            </button>
          </>
        )}
        {r.state === 'provisioned' && !pending && (
          <>
            <input class="input input-sm" type="date" value={until} min={r.spec.lease_end} onChange={(e) => setUntil(e.currentTarget.value)} aria-label={t('vms.extension.until')} data-testid="vm-extend-until" />
            <button type="button" class="btn" disabled={busy || !until || !text.trim()} onClick={() => void run(() => api.vmsExtend(r.id, until, text))} data-testid="vm-extend">
              {t('vms.extension.ask')}
            </button>
          </>
        )}
        {pending && (
          <>
            <button type="button" class="btn btn-danger" disabled={busy || !text.trim()} onClick={() => void run(() => api.vmsDecideExtension(r.id, pending.n, false, text))} data-testid="vm-extension-reject">
              {t('vms.detail.reject')}
            </button>
            <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void run(() => api.vmsDecideExtension(r.id, pending.n, true, text))} data-testid="vm-extension-approve">
              {t('vms.extension.approve', { until: pending.lease_end })}
            </button>
          </>
        )}
      </div>
    </div>
  );
}
