// The conflict dialog shared by save, delete and rollback: someone changed the
// key since it was loaded.
import { useState } from 'preact/hooks';
import type { AppError, KeyValue } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { DiffView } from './DiffView';

export type ConflictOp = 'save' | 'delete' | 'rollback';

/**
 * "Someone changed this key since you opened it": their value (or deleted),
 * the diff theirs → mine, and reload / overwrite (after a confirmation) / keep editing.
 */
export function ConflictDialog({
  keyName,
  theirs,
  mine,
  op,
  busy,
  error,
  onReloadTheirs,
  onOverwrite,
  onKeepEditing,
  title,
}: {
  keyName: string;
  theirs: KeyValue | null;
  /** what we tried to write; null for a delete */
  mine: string | null;
  op: ConflictOp;
  busy: boolean;
  error: AppError | null;
  onReloadTheirs: () => void;
  onOverwrite: () => void;
  onKeepEditing: () => void;
  title?: string;
}) {
  const t = useT();
  const [confirming, setConfirming] = useState(false);
  const theirRev = theirs?.meta.mod_revision ?? null;
  const footer = (
      <>
        <button type="button" class="btn" onClick={onKeepEditing} data-testid="config-keep-editing" disabled={busy}>
          {t('config.conflict.keepEditing')}
        </button>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-primary" onClick={onReloadTheirs} data-testid="config-reload-theirs" disabled={busy}>
          <Icon name="refresh" size={14} />
          {theirs ? t('config.conflict.reloadTheirs') : t('config.conflict.acceptDelete')}
        </button>
        {!(op === 'delete' && !theirs) &&
          (confirming ? (
            <button type="button" class="btn btn-danger" onClick={onOverwrite} data-testid="config-overwrite-confirm" disabled={busy}>
              {busy && <Spinner />}
              {op === 'delete' ? t('config.conflict.deleteAnywayConfirm') : t('config.conflict.overwriteConfirm')}
            </button>
          ) : (
            <button type="button" class="btn btn-danger-ghost" onClick={() => setConfirming(true)} data-testid="config-overwrite" disabled={busy}>
              {op === 'delete' ? t('config.conflict.deleteAnyway') : t('config.conflict.overwrite')}
            </button>
          ))}
      </>
  );
  return (
    <Modal title={title ?? t('config.conflict.title')} onClose={onKeepEditing} size="lg" testid="config-conflict" closeOnBackdrop={false} footer={footer}>
      <div class="conflict">
        <div class="conflict-lead" role="alert">
          <Icon name="alert" class="conflict-icon" />
          <div>
            <strong>{t('config.conflict.lead')}</strong>
            <div class="muted">
              {theirs
                ? t('config.conflict.changedAt', { key: keyName, revision: theirs.meta.mod_revision, version: theirs.meta.version })
                : t('config.conflict.deleted', { key: keyName })}
            </div>
          </div>
        </div>
        <h3 class="conflict-h">{t('config.conflict.theirs')}</h3>
        {theirs ? (
          <pre class="conflict-value mono" data-testid="config-conflict-theirs">
            {theirs.value}
          </pre>
        ) : (
          <div class="conflict-value conflict-deleted" data-testid="config-conflict-theirs">
            {t('config.conflict.deletedValue')}
          </div>
        )}
        {mine !== null && (
          <>
            <h3 class="conflict-h">{t('config.conflict.diffTitle')}</h3>
            <DiffView oldText={theirs?.value ?? ''} newText={mine} legend={[t('config.conflict.legendTheirs'), t('config.conflict.legendMine')]} />
          </>
        )}
        {error && <ErrorState error={error} inline title={t('config.errors.writeFailed')} />}
        {confirming && (
          <div class="confirm-strip" role="alert">
            <Icon name="alert" />
            <span>
              {op === 'delete'
                ? t('config.conflict.confirmDelete', { revision: theirRev ?? 0 })
                : theirs
                  ? t('config.conflict.confirmOverwrite', { revision: theirRev ?? 0 })
                  : t('config.conflict.confirmRecreate')}
            </span>
          </div>
        )}
      </div>
    </Modal>
  );
}
