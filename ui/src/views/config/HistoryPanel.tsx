// History of the open key (etcd revisions, newest first) with "diff with
// current" and a guarded "roll back to this", plus Opsdeck's audit entries.
// State: useKeyHistory (the list), useRollback (the rollback and its conflict).
import { useState } from 'preact/hooks';
import type { HistoryEntry, KeyValue } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { HistoryRow } from './history/HistoryRow';
import { KeyAuditList } from './history/KeyAuditList';
import { RollbackDialog } from './history/RollbackDialog';
import { useKeyHistory } from './history/useKeyHistory';
import { useRollback } from './history/useRollback';
import { ConflictDialog } from './ConflictDialog';
import { DiffView } from './DiffView';

interface Props {
  connId: string;
  keyName: string;
  current: KeyValue | null;
  /** after a rollback was written: reload the value */
  onRolledBack: () => void;
}

export function HistoryPanel({ connId, keyName, current, onRolledBack }: Props) {
  const t = useT();
  const { history, error, loading, load } = useKeyHistory(connId, keyName, current?.meta.mod_revision);
  const [diffOf, setDiffOf] = useState<HistoryEntry | null>(null);
  const rb = useRollback(connId, keyName, onRolledBack);
  const { rollback, conflict } = rb;

  if (!history && loading)
    return (
      <div class="cfg-panel-state">
        <Spinner size="md" /> {t('common.loading')}
      </div>
    );
  if (error) return <ErrorState error={error} title={t('config.history.loadFailed')} onRetry={() => void load()} />;
  if (!history) return null;

  const curValue = current?.value ?? '';
  const curRev = current?.meta.mod_revision ?? 0;

  return (
    <div class="cfg-history">
      <div class="cfg-history-bar">
        <span class="muted">{t('config.history.count', { count: history.entries.length, n: history.entries.length })}</span>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm btn-ghost" onClick={() => void load()} disabled={loading}>
          {loading ? <Spinner /> : <Icon name="refresh" size={14} />}
          {t('common.refresh')}
        </button>
      </div>
      {history.compacted_at !== null && (
        <div class="banner banner-info" role="status" data-testid="config-history-compacted">
          <Icon name="info" class="banner-icon" />
          <span class="banner-body">{t('config.history.compacted', { revision: history.compacted_at })}</span>
        </div>
      )}
      {history.entries.length === 0 ? (
        <EmptyState compact icon="history" title={t('config.history.empty')} />
      ) : (
        <ol class="cfg-history-list">
          {history.entries.map((e, i) => (
            <HistoryRow
              key={e.mod_revision}
              entry={e}
              isCurrent={e.mod_revision === curRev && i === 0}
              curRev={curRev}
              canRollback={!!current}
              onDiff={setDiffOf}
              onRollback={rb.ask}
            />
          ))}
        </ol>
      )}
      {history.truncated && <p class="footnote">{t('config.history.truncated', { count: history.entries.length })}</p>}

      <KeyAuditList audit={history.audit} />

      {diffOf && (
        <Modal title={t('config.history.diffTitle', { revision: diffOf.mod_revision })} onClose={() => setDiffOf(null)} size="lg" testid="config-history-diff-dialog">
          <DiffView oldText={diffOf.value ?? ''} newText={curValue} legend={[t('config.history.legendRev', { revision: diffOf.mod_revision }), t('config.history.legendCurrent', { revision: curRev })]} />
        </Modal>
      )}

      {rollback && <RollbackDialog entry={rollback} curValue={curValue} curRev={curRev} rb={rb} />}

      {conflict && (
        <ConflictDialog
          keyName={keyName}
          theirs={conflict.theirs}
          mine={conflict.entry.value}
          op="rollback"
          busy={rb.busy}
          error={rb.error}
          onKeepEditing={rb.closeConflict}
          onReloadTheirs={() => {
            rb.closeConflict();
            onRolledBack();
          }}
          onOverwrite={() => void rb.run(conflict.entry, conflict.theirs?.meta.mod_revision ?? 0)}
        />
      )}
    </div>
  );
}
