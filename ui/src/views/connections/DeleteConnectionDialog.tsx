// Confirms deleting a saved connection (its secret goes with it).
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import type { DeleteConnection } from './useDeleteConnection';

export function DeleteConnectionDialog({ del }: { del: DeleteConnection }) {
  const t = useT();
  const { deleting, busy, error } = del;
  if (!deleting) return null;
  return (
    <Modal
      title={t('connections.deleteTitle')}
      onClose={del.cancel}
      testid="delete-dialog"
      initialFocus="[data-testid=cancel-delete]"
      footer={
        <>
          <button type="button" class="btn" data-testid="cancel-delete" onClick={del.cancel}>
            {t('common.cancel')}
          </button>
          <button type="button" class="btn btn-danger" data-testid="confirm-delete" disabled={busy} onClick={() => void del.confirm()}>
            {busy && <Spinner size="sm" />}
            {t('common.delete')}
          </button>
        </>
      }
    >
      <p>{t('connections.deleteBody', { name: deleting.name, kind: t(`kind.${deleting.spec.kind}`) })}</p>
      {error && (
        <div class="form-error" role="alert">
          <Icon name="alert" class="form-error-icon" />
          <div>{error.message}</div>
        </div>
      )}
    </Modal>
  );
}
