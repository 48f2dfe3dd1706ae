// The right pane of the Config workspace: nothing open yet, or the open key's
// value and history tabs.
import type { KeyMeta } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { useT } from '../../i18n';
import { HistoryPanel } from './HistoryPanel';
import type { useChanges } from './useChanges';
import type { OpenKeyState } from './useOpenKey';
import { ValuePanel } from './ValuePanel';

interface Props {
  connId: string;
  openKey: OpenKeyState;
  changes: ReturnType<typeof useChanges>;
  onWritten: (meta: KeyMeta) => void;
  onDeleted: (key: string, revision: number) => void;
}

export function KeyPanel({ connId: id, openKey, changes, onWritten, onDeleted }: Props) {
  const t = useT();
  const { open, tab, setTab } = openKey;
  return (
    <div class="cfg-panel">
      {!open ? (
        <EmptyState icon="key" title={t('config.value.noneTitle')}>
          <p>{t('config.value.noneBody')}</p>
        </EmptyState>
      ) : (
        <>
          <div class="cfg-tabs" role="tablist">
            <button
              type="button"
              role="tab"
              class={`cfg-tab${tab === 'value' ? ' cfg-tab-active' : ''}`}
              aria-selected={tab === 'value'}
              onClick={() => setTab('value')}
              data-testid="config-tab-value"
            >
              <Icon name="edit" size={14} />
              {t('config.tabs.value')}
            </button>
            <button
              type="button"
              role="tab"
              class={`cfg-tab${tab === 'history' ? ' cfg-tab-active' : ''}`}
              aria-selected={tab === 'history'}
              onClick={() => setTab('history')}
              data-testid="config-tab-history"
              disabled={open.isNew && !openKey.kv}
            >
              <Icon name="history" size={14} />
              {t('config.tabs.history')}
            </button>
          </div>
          <div class="cfg-tab-body">
            <ValuePanel
              key={`${id}:${open.key}:${open.nonce}`}
              connId={id}
              keyName={open.key}
              protectedBy={changes.protectedBy(open.key)}
              onProposed={changes.reload}
              isNew={open.isNew}
              external={openKey.external}
              hidden={tab !== 'value'}
              reloadSignal={openKey.reloadSignal}
              onLoaded={openKey.setKv}
              onWritten={onWritten}
              onDeleted={onDeleted}
            />
            {tab === 'history' && (
              <HistoryPanel key={`${id}:${open.key}`} connId={id} keyName={open.key} current={openKey.kv} onRolledBack={openKey.rolledBack} />
            )}
          </div>
        </>
      )}
    </div>
  );
}
