// Deleting the open key, guarded by the revision that was loaded, with a comment.
import { ErrorState } from '../../../components/ErrorState';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import type { KeyValueState } from './useKeyValue';
import type { KeyWriteState } from './useKeyWrite';

export function DeleteKeyDialog({ keyName, value, write }: { keyName: string; value: KeyValueState; write: KeyWriteState }) {
  const t = useT();
  const { busy, comment } = write;
  const { loadedRev } = value;
  return (
    <Modal
      title={t('config.delete.title')}
      onClose={() => !busy && write.setDialog(null)}
      testid="config-delete-dialog"
      initialFocus="#cfg-del-comment"
      onSubmit={() => void write.write('delete', loadedRev, null, value.format, false, comment.trim())}
      footer={
        <>
          <button type="button" class="btn" onClick={() => write.setDialog(null)} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-danger" data-testid="config-delete-key-confirm" disabled={busy}>
            {busy && <Spinner />}
            {t('config.delete.confirm')}
          </button>
        </>
      }
    >
      <p>{t('config.delete.body', { key: keyName, revision: loadedRev })}</p>
      <div class="field">
        <label class="field-label" for="cfg-del-comment">
          {t('config.save.comment')}
        </label>
        <input id="cfg-del-comment" class="input" value={comment} onInput={(e) => write.setComment((e.currentTarget as HTMLInputElement).value)} data-testid="config-comment" />
      </div>
      {write.error && <ErrorState error={write.error} inline title={t('config.errors.writeFailed')} />}
    </Modal>
  );
}
