// The Config workspace's toolbar: the connection, the open prefix with its key
// count and live state, and the buttons that open the workspace's dialogs.
import type { AppError, Connection } from '../../api/types';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { ROOT } from './tree';
import type { useChanges } from './useChanges';

export type DialogName = 'new' | 'compare' | 'export' | 'import' | 'deletePrefix' | 'changes' | null;

interface Props {
  connections: Connection[];
  connId: string;
  onChooseConnection: (id: string) => void;
  prefix: string;
  count: { count: number | null; error: AppError | null };
  watching: boolean;
  changes: ReturnType<typeof useChanges>;
  onDialog: (name: DialogName) => void;
}

export function ConfigToolbar({ connections, connId, onChooseConnection, prefix, count: { count, error: countError }, watching, changes, onDialog }: Props) {
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
        <span class={`cfg-live${watching ? ' cfg-live-on' : ''}`} title={watching ? t('config.watch.liveTitle', { prefix }) : t('config.watch.offTitle')}>
          <span class="badge-dot" aria-hidden="true" />
          {watching ? t('config.watch.live') : t('config.watch.off')}
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
      <button type="button" class="btn btn-sm" onClick={() => onDialog('compare')} data-testid="config-compare-open">
        <Icon name="compare" size={14} />
        {t('config.compare.button')}
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
