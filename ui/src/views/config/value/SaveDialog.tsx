// Saving the draft: its diff against the loaded value, a comment, and the
// guard (the revision the save expects). Under a protected prefix the save
// becomes a proposed change; "save as plain" warns that the format is dropped.
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { DiffView } from '../DiffView';
import type { KeyValueState } from './useKeyValue';
import type { KeyWriteState } from './useKeyWrite';

interface Props {
  keyName: string;
  plain: boolean;
  protectedBy?: string | null;
  value: KeyValueState;
  write: KeyWriteState;
}

export function SaveDialog({ keyName, plain, protectedBy, value, write }: Props) {
  const t = useT();
  const { kv, draft, format, loadedRev } = value;
  const { busy, comment } = write;
  return (
    <Modal
      title={kv ? t('config.save.title', { key: keyName }) : t('config.save.titleNew', { key: keyName })}
      onClose={() => !busy && write.setDialog(null)}
      size="lg"
      testid="config-diff"
      initialFocus="[data-testid=config-comment]"
      onSubmit={() => {
        if (protectedBy) {
          void write.propose(comment.trim());
          return;
        }
        const fmt = plain ? 'plain' : format;
        void write.write('save', loadedRev, draft, fmt, plain, comment.trim());
      }}
      footer={
        <>
          <span class="modal-footer-hint">{kv ? t('config.save.guard', { revision: loadedRev }) : t('config.save.guardNew')}</span>
          <button type="button" class="btn" onClick={() => write.setDialog(null)} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" data-testid="config-confirm-save" disabled={busy}>
            {busy && <Spinner />}
            {protectedBy ? t('config.changes.propose') : plain ? t('config.save.confirmPlain') : t('config.save.confirm')}
          </button>
        </>
      }
    >
      {protectedBy && (
        <div class="confirm-strip" role="status" data-testid="config-protected-note">
          <Icon name="alert" /> <span>{t('config.changes.protectedNote', { prefix: protectedBy })}</span>
        </div>
      )}
      {plain && (
        <div class="confirm-strip" role="alert">
          <Icon name="alert" /> <span>{t('config.save.plainWarning', { format: t(`config.format.${format}`) })}</span>
        </div>
      )}
      <DiffView oldText={kv?.value ?? ''} newText={draft} legend={[kv ? t('config.save.legendOld', { revision: loadedRev }) : t('config.save.legendNone'), t('config.save.legendNew')]} />
      <div class="field">
        <label class="field-label" for="cfg-comment">
          {t('config.save.comment')}
        </label>
        <input
          id="cfg-comment"
          class="input"
          value={comment}
          maxLength={500}
          placeholder={t('config.save.commentPlaceholder')}
          data-testid="config-comment"
          onInput={(e) => write.setComment((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      {write.error && <ErrorState error={write.error} inline title={t('config.errors.writeFailed')} />}
    </Modal>
  );
}
