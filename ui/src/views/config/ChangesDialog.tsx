// Change requests on the protected prefixes of this etcd's team store: the
// list, and the review of one (each key's diff against the value it was
// proposed on), with approve / reject / publish. The author cannot review
// their own change and a stale one cannot be published: the backend refuses
// both, and the buttons say so before.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, ChangeList, ChangeState, ChangeView } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge, type BadgeState } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { formatDateTime } from '../../util/time';
import { DiffView } from './DiffView';

const BADGE: Record<ChangeState, BadgeState> = { pending: 'warn', approved: 'info', rejected: 'error', stale: 'error', published: 'ok' };

export function ChangesDialog({ connId, list, onClose, onChanged }: { connId: string; list: ChangeList; onClose: () => void; onChanged: () => void }) {
  const t = useT();
  const [openId, setOpenId] = useState<string | null>(list.changes.find((c) => c.state === 'pending' || c.state === 'approved')?.id ?? null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const open = list.changes.find((c) => c.id === openId) ?? null;

  const act = async (run: () => Promise<ChangeView>) => {
    setBusy(true);
    setError(null);
    try {
      await run();
      setComment('');
      onChanged();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={t('config.changes.title')} onClose={() => !busy && onClose()} size="xl" testid="config-changes">
      <p class="muted">{list.protected.length ? t('config.changes.protected', { prefixes: list.protected.join(', ') }) : t('config.changes.none')}</p>
      <div class="changes-layout">
        <ul class="changes-list" role="listbox" aria-label={t('config.changes.title')}>
          {list.changes.map((c) => (
            <li key={c.id}>
              <button type="button" role="option" aria-selected={c.id === openId} class={`changes-item${c.id === openId ? ' changes-item-open' : ''}`} onClick={() => setOpenId(c.id)} data-testid="config-change-row" data-id={c.id} data-state={c.state}>
                <StatusBadge state={BADGE[c.state]}>{t(`config.changes.state.${c.state}`)}</StatusBadge>
                <span class="mono">{c.ops.map((o) => o.key).join(', ')}</span>
                <span class="muted">{t('config.changes.by', { who: c.author, when: formatDateTime(c.created_at) })}</span>
              </button>
            </li>
          ))}
          {list.changes.length === 0 && <li class="muted">{t('config.changes.empty')}</li>}
        </ul>
        {open && (
          <section class="changes-detail" data-testid="config-change-detail" data-state={open.state}>
            <h3 class="vm-h3">
              {open.comment || open.id} <span class="muted mono">{open.id}</span>
            </h3>
            {open.review && (
              <p>{t(open.review.approved ? 'config.changes.approvedBy' : 'config.changes.rejectedBy', { who: open.review.reviewer, comment: open.review.comment })}</p>
            )}
            {open.moved.length > 0 && (
              <div class="banner banner-error banner-list" role="alert">
                {t('config.changes.stale', { keys: open.moved.join(', ') })}
              </div>
            )}
            {open.notes.length > 0 && (
              <div class="banner banner-warn banner-list" role="status">
                <ul>
                  {open.notes.map((n, i) => (
                    <li key={i}>{n}</li>
                  ))}
                </ul>
              </div>
            )}
            {open.ops.map((o) => (
              <div key={o.key} class="changes-op">
                <div class="mono">{o.key}</div>
                <DiffView oldText={o.base_value ?? ''} newText={o.value ?? ''} legend={[t('config.changes.base', { revision: o.base_revision }), o.value === null ? t('config.changes.deleted') : t('config.changes.proposed')]} />
              </div>
            ))}
            {error && <ErrorState error={error} inline title={t('config.changes.failed')} />}
            <div class="field">
              <input class="input" value={comment} maxLength={500} placeholder={t('config.changes.comment')} onInput={(e) => setComment(e.currentTarget.value)} data-testid="config-change-comment" />
            </div>
            <div class="vm-actions">
              <button type="button" class="btn btn-sm" disabled={busy || open.state !== 'pending' || !comment.trim()} onClick={() => void act(() => api.configChangeReview(connId, open.id, false, comment))} data-testid="config-change-reject">
                {t('config.changes.reject')}
              </button>
              <button type="button" class="btn btn-sm btn-primary" disabled={busy || open.state !== 'pending'} onClick={() => void act(() => api.configChangeReview(connId, open.id, true, comment))} data-testid="config-change-approve">
                {busy && <Spinner size="sm" />}
                {t('config.changes.approve')}
              </button>
              <button type="button" class="btn btn-sm btn-primary" disabled={busy || open.state !== 'approved'} onClick={() => void act(() => api.configChangePublish(connId, open.id))} data-testid="config-change-publish">
                {t('config.changes.publish')}
              </button>
            </div>
          </section>
        )}
      </div>
    </Modal>
  );
}
