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
import { formatDateTime, formatTime } from '../../util/time';

const STATES = ['', 'pending', 'sending', 'sent', 'failed'] as const;
const BADGE: Record<string, BadgeState> = { pending: 'info', retrying: 'warn', sending: 'running', sent: 'ok', failed: 'error' };

/** The state as shown: a pending notification already tried is retrying (with its next try). */
export function shownState(e: Pick<OutboxEntry, 'state' | 'attempts'>): string {
  return e.state === 'pending' && e.attempts > 0 ? 'retrying' : e.state;
}

/** The event's name in the user's language ("vm.request.filed" → "Request filed"); the id when unknown. */
export function eventLabel(t: TFn, event: string): string {
  const key = `notify.event.${event.replaceAll('.', '_')}`;
  const label = t(key);
  return label === key ? event : label;
}

function columns(t: TFn, retry: (e: OutboxEntry) => void, busy: number | null): Column<OutboxEntry>[] {
  return [
    { id: 'time', header: t('notify.col.time'), cell: (e) => <span class="mono nowrap">{formatDateTime(e.created_at)}</span>, sortValue: (e) => e.id, class: 'col-datetime' },
    {
      id: 'state',
      header: t('notify.col.state'),
      cell: (e) => {
        const s = shownState(e);
        return (
          <span class="notify-state" data-testid="notify-state-cell" data-state={s}>
            <StatusBadge state={BADGE[s] ?? 'info'}>{t(`notify.state.${s}`)}</StatusBadge>
            {s === 'retrying' && (
              <span class="muted nowrap notify-next" title={e.next_attempt_at}>
                {t('notify.nextTry', { when: formatTime(e.next_attempt_at) })}
              </span>
            )}
          </span>
        );
      },
      sortValue: (e) => shownState(e),
      filterValue: (e) => `${e.state} ${t(`notify.state.${shownState(e)}`)}`,
      class: 'col-notify-state',
    },
    {
      id: 'title',
      header: t('notify.col.title'),
      // The subject, and under it the event by name: the widest column.
      cell: (e) => (
        <span class="notify-subject">
          <span class="truncate" title={e.title}>
            {e.title}
          </span>
          <span class="muted truncate notify-event" title={e.event}>
            {eventLabel(t, e.event)}
          </span>
        </span>
      ),
      sortValue: (e) => e.event,
      filterValue: (e) => `${e.title} ${e.event} ${eventLabel(t, e.event)} ${e.recipient} ${e.subscriber}`,
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
        ) : shownState(e) === 'retrying' ? (
          <button type="button" class="btn btn-sm" data-testid="notify-retry-now" title={t('notify.retryNowHint')} disabled={busy === e.id} onClick={() => retry(e)}>
            {t('notify.retryNow')}
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
          <button type="button" class="btn btn-sm" onClick={() => void load()} data-testid="notify-refresh">
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
