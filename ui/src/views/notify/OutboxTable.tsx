// The notification outbox: pending, sending, sent and failed notifications
// with their tries and last error, newest first; a failed one can be retried.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, OutboxEntry, OutboxView } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { StatusBadge, type BadgeState } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { useT, type TFn } from '../../i18n';
import { formatDateTime } from '../../util/time';

const STATES = ['', 'pending', 'sending', 'sent', 'failed'] as const;
const BADGE: Record<string, BadgeState> = { pending: 'warn', sending: 'running', sent: 'ok', failed: 'error' };

function columns(t: TFn, retry: (e: OutboxEntry) => void, busy: number | null): Column<OutboxEntry>[] {
  return [
    { id: 'time', header: t('notify.col.time'), cell: (e) => <span class="mono nowrap">{formatDateTime(e.created_at)}</span>, sortValue: (e) => e.id, class: 'col-datetime' },
    { id: 'state', header: t('notify.col.state'), cell: (e) => <StatusBadge state={BADGE[e.state] ?? 'info'}>{t(`notify.state.${e.state}`)}</StatusBadge>, sortValue: (e) => e.state, filterValue: (e) => e.state, class: 'col-notify-state' },
    { id: 'event', header: t('notify.col.event'), cell: (e) => <span class="mono truncate" title={e.event}>{e.event}</span>, sortValue: (e) => e.event, filterValue: (e) => e.event, class: 'col-notify-event' },
    {
      id: 'title',
      header: t('notify.col.title'),
      cell: (e) => (
        <span class="truncate" title={e.title}>
          {e.title}
        </span>
      ),
      filterValue: (e) => `${e.title} ${e.recipient} ${e.subscriber}`,
    },
    { id: 'to', header: t('notify.col.to'), cell: (e) => <span class="mono truncate" title={e.recipient || e.subscriber}>{e.recipient || e.subscriber}</span>, sortValue: (e) => e.recipient, class: 'col-notify-to' },
    { id: 'tries', header: t('notify.col.tries'), cell: (e) => <span class="mono">{`${e.attempts}/${e.max_attempts}`}</span>, sortValue: (e) => e.attempts, class: 'col-notify-tries' },
    {
      id: 'error',
      header: t('notify.col.error'),
      cell: (e) => (
        <span class="truncate" title={e.last_error ?? ''} data-testid="notify-last-error">
          {e.last_error ?? ''}
        </span>
      ),
      filterValue: (e) => e.last_error ?? '',
      class: 'col-notify-error',
    },
    {
      id: 'actions',
      header: '',
      class: 'col-notify-retry',
      cell: (e) =>
        e.state === 'failed' ? (
          <button type="button" class="btn btn-sm" data-testid="notify-retry" disabled={busy === e.id} onClick={() => retry(e)}>
            {t('notify.retry')}
          </button>
        ) : null,
    },
  ];
}

export function OutboxTable() {
  const t = useT();
  const toast = useToast();
  const [state, setState] = useState<(typeof STATES)[number]>('');
  const [view, setView] = useState<OutboxView | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const [busy, setBusy] = useState<number | null>(null);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const toggle = (e: OutboxEntry) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(e.id)) next.delete(e.id);
      else next.add(e.id);
      return next;
    });

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setView(await api.notifyOutbox(state || null, 500));
      setError(null);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setLoading(false);
    }
  }, [state]);

  useEffect(() => {
    void load();
  }, [load]);

  const retry = async (e: OutboxEntry) => {
    setBusy(e.id);
    try {
      await api.notifyRetry(e.id);
      toast.push({ kind: 'ok', title: t('notify.retried', { id: e.id }) });
      await load();
    } catch (err) {
      toast.push({ kind: 'error', title: toAppError(err).message });
    } finally {
      setBusy(null);
    }
  };

  const c = view?.counts;
  return (
    <DataTable
      label={t('notify.outbox')}
      testid="notify-outbox"
      columns={columns(t, (e) => void retry(e), busy)}
      rows={view ? view.entries : null}
      rowKey={(e) => e.id}
      loading={loading}
      error={error}
      onRetry={() => void load()}
      filterable
      rowClass={(e) => (e.state === 'failed' ? 'row-error' : undefined)}
      onActivate={toggle}
      expanded={(e) =>
        open.has(e.id) ? (
          <div class="notify-detail" data-testid="notify-detail">
            <div>{e.title}</div>
            <div class="mono">{`${e.subscriber} → ${e.recipient || e.channel_id}`}</div>
            {e.last_error && <div>{e.last_error}</div>}
          </div>
        ) : null
      }
      toolbar={
        <div class="row-actions">
          <select class="input input-sm" aria-label={t('notify.col.state')} data-testid="notify-state" value={state} onChange={(e) => setState(e.currentTarget.value as (typeof STATES)[number])}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s ? t(`notify.state.${s}`) : t('notify.allStates')}
              </option>
            ))}
          </select>
          {c && <span class="muted nowrap">{t('notify.counts', { pending: c.pending + c.sending, sent: c.sent, failed: c.failed })}</span>}
          <button type="button" class="btn btn-sm" onClick={() => void load()}>
            {t('notify.refresh')}
          </button>
        </div>
      }
      empty={
        <EmptyState icon="audit" title={t('notify.emptyTitle')} testid="notify-empty">
          <p>{t('notify.emptyBody')}</p>
        </EmptyState>
      }
    />
  );
}
