// Rolling back to an older revision: the change it makes (current → that
// revision), a comment, and the guard (the current revision).
import type { HistoryEntry } from '../../../api/types';
import { ErrorState } from '../../../components/ErrorState';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { DiffView } from '../DiffView';
import type { Rollback } from './useRollback';

export function RollbackDialog({ entry, curValue, curRev, rb }: { entry: HistoryEntry; curValue: string; curRev: number; rb: Rollback }) {
  const t = useT();
  const { busy } = rb;
  return (
    <Modal
      title={t('config.history.rollbackTitle', { revision: entry.mod_revision })}
      onClose={() => !busy && rb.cancel()}
      size="lg"
      testid="config-diff"
      initialFocus="[data-testid=config-comment]"
      onSubmit={() => void rb.run(entry, curRev)}
      footer={
        <>
          <span class="modal-footer-hint">{t('config.save.guard', { revision: curRev })}</span>
          <button type="button" class="btn" onClick={rb.cancel} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" data-testid="config-confirm-save" disabled={busy}>
            {busy && <Spinner />}
            {t('config.history.rollbackConfirm')}
          </button>
        </>
      }
    >
      <DiffView oldText={curValue} newText={entry.value ?? ''} legend={[t('config.history.legendCurrent', { revision: curRev }), t('config.history.legendRev', { revision: entry.mod_revision })]} />
      <div class="field">
        <label class="field-label" for="cfg-rb-comment">
          {t('config.save.comment')}
        </label>
        <input
          id="cfg-rb-comment"
          class="input"
          value={rb.comment}
          placeholder={t('config.history.commentPlaceholder')}
          data-testid="config-comment"
          onInput={(e) => rb.setComment((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      {rb.error && <ErrorState error={rb.error} inline title={t('config.errors.writeFailed')} />}
    </Modal>
  );
}
