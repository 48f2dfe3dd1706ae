// The Config workspace's toolbar: the connection, the open prefix with its key
// count and live state, and the buttons that open the workspace's dialogs.
import type { AppError, Connection } from '../../api/types';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { ROOT } from './tree';
import type { useChanges } from './useChanges';
import type { LiveState, WatchReconnect } from './usePrefixWatch';

export type DialogName = 'new' | 'compare' | 'promote' | 'export' | 'import' | 'deletePrefix' | 'changes' | 'cluster' | 'move' | null;

interface Props {
  connections: Connection[];
  connId: string;
  onChooseConnection: (id: string) => void;
  prefix: string;
  count: { count: number | null; error: AppError | null };
  live: LiveState;
  /** While reconnecting: why, and when the next attempt is. */
  reconnect: WatchReconnect | null;
  changes: ReturnType<typeof useChanges>;
  onDialog: (name: DialogName) => void;
}

export function ConfigToolbar({ connections, connId, onChooseConnection, prefix, count: { count, error: countError }, live, reconnect, changes, onDialog }: Props) {
  const t = useT();
  return (
    <div class="cfg-toolbar">
      <ConnectionPicker icon="plug" label={t('config.connection')} connections={connections} value={connId} onChange={onChooseConnection} testid="config" />
      <div class="cfg-prefix-info" title={prefix}>
        <span class="muted">{t('config.prefix')}</span>
        <span class="mono cfg-prefix-text truncate" data-testid="config-prefix">
          {prefix}
        </span>
        <span class="cfg-count" data-testid="config-count" data-count={count ?? ''}>
          {countError ? (
            <span class="error-inline-text" title={countError.message}>
              {t('config.countFailed')}
            </span>
          ) : count === null ? (
            <Spinner />
          ) : (
            t('config.count', { count, n: count.toLocaleString() })
          )}
        </span>
        <span class={`cfg-live cfg-live-${live}`} data-testid="config-live" data-state={live} title={liveTitle(t, live, prefix, reconnect)}>
          <span class="badge-dot" aria-hidden="true" />
          {t(`config.watch.state.${live}`)}
        </span>
      </div>
      <span class="toolbar-spacer" />
      <button type="button" class="btn btn-sm" onClick={() => onDialog('new')} data-testid="config-new-key">
        <Icon name="plus" size={14} />
        {t('config.newKey.button')}
      </button>
      {changes.list && changes.list.protected.length > 0 && (
        <button type="button" class="btn btn-sm" onClick={() => onDialog('changes')} data-testid="config-changes-open">
          {t('config.changes.button', { count: changes.waiting })}
        </button>
      )}
      <button type="button" class="btn btn-sm" onClick={() => onDialog('cluster')} data-testid="config-cluster-open">
        <Icon name="clusters" size={14} />
        {t('config.ops.cluster.button')}
      </button>
      <button type="button" class="btn btn-sm" onClick={() => onDialog('compare')} data-testid="config-compare-open">
        <Icon name="compare" size={14} />
        {t('config.compare.button')}
      </button>
      <button type="button" class="btn btn-sm" onClick={() => onDialog('promote')} data-testid="config-promote-open" disabled={connections.length < 2}>
        <Icon name="upload" size={14} />
        {t('config.promote.button')}
      </button>
      <button type="button" class="btn btn-sm" onClick={() => onDialog('export')} data-testid="config-export">
        <Icon name="download" size={14} />
        {t('config.export.button')}
      </button>
      <button type="button" class="btn btn-sm" onClick={() => onDialog('import')} data-testid="config-import">
        <Icon name="upload" size={14} />
        {t('config.import.button')}
      </button>
      <button
        type="button"
        class="btn btn-sm btn-danger-ghost"
        onClick={() => onDialog('deletePrefix')}
        data-testid="config-delete-prefix"
        disabled={prefix === ROOT}
        title={prefix === ROOT ? t('config.deletePrefix.rootDisabled') : t('config.deletePrefix.button', { prefix })}
      >
        <Icon name="trash" size={14} />
        {t('config.deletePrefix.short')}
      </button>
    </div>
  );
}

function liveTitle(t: ReturnType<typeof useT>, live: LiveState, prefix: string, reconnect: WatchReconnect | null): string {
  switch (live) {
    case 'live':
      return t('config.watch.liveTitle', { prefix });
    case 'gap':
      return t('config.watch.gapIndicatorTitle', { prefix });
    case 'reconnecting':
      return t('config.watch.reconnectingTitle', {
        attempt: reconnect?.attempt ?? 1,
        seconds: Math.max(1, Math.round((reconnect?.retry_in_ms ?? 0) / 1000)),
        reason: reconnect?.reason ?? '',
      });
    default:
      return t('config.watch.offTitle');
  }
}
