// Delete a prefix: counts and samples the keys, then asks for the prefix (or
// the count) typed back before deleting them all at the counted revision.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, DeletePreview } from '../../../api/types';
import { EmptyState } from '../../../components/EmptyState';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { deleteConfirmed } from '../confirm';

export function DeletePrefixDialog({ connId, prefix, onClose, onDeleted }: { connId: string; prefix: string; onClose: () => void; onDeleted: (n: number) => void }) {
  const t = useT();
  const [preview, setPreview] = useState<DeletePreview | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [typed, setTyped] = useState('');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);

  const load = () => {
    setError(null);
    setPreview(null);
    api.configDeletePreview(connId, prefix).then(setPreview, (e) => setError(toAppError(e)));
  };
  useEffect(load, [connId, prefix]);

  const ok = preview !== null && deleteConfirmed(typed, prefix, preview.count);
  const submit = async () => {
    if (!ok || !preview) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.configDeletePrefix(connId, prefix, preview.count, comment.trim());
      onDeleted(res.deleted);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      title={t('config.deletePrefix.title', { prefix })}
      onClose={() => !busy && onClose()}
      size="lg"
      testid="config-delete-prefix-dialog"
      initialFocus="#cfg-del-confirm"
      onSubmit={() => void submit()}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-danger" disabled={!ok || busy} data-testid="config-delete-confirm">
            {busy && <Spinner />}
            {t('config.deletePrefix.confirm', { count: preview?.count ?? 0 })}
          </button>
        </>
      }
    >
      {!preview && !error && (
        <div class="cfg-panel-state">
          <Spinner /> {t('config.deletePrefix.counting')}
        </div>
      )}
      {error && <ErrorState error={error} inline title={t('config.deletePrefix.failed')} onRetry={preview ? undefined : load} />}
      {preview &&
        (preview.count === 0 ? (
          <EmptyState compact icon="config" title={t('config.deletePrefix.nothing', { prefix })} />
        ) : (
          <>
            <div class="confirm-strip" role="alert">
              <Icon name="alert" />
              <span>{t('config.deletePrefix.warning', { count: preview.count, prefix })}</span>
            </div>
            <h3 class="cfg-section-title">{t('config.deletePrefix.sample', { shown: preview.sample.length, count: preview.count })}</h3>
            <ul class="cfg-sample mono">
              {preview.sample.map((k) => (
                <li key={k}>{k}</li>
              ))}
              {preview.count > preview.sample.length && <li class="muted">{t('config.deletePrefix.more', { count: preview.count - preview.sample.length })}</li>}
            </ul>
            <div class="field">
              <label class="field-label" for="cfg-del-confirm">
                {t('config.deletePrefix.typeToConfirm', { count: preview.count, prefix })}
              </label>
              <input
                id="cfg-del-confirm"
                class="input mono"
                value={typed}
                autocomplete="off"
                data-testid="config-delete-confirm-input"
                onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
              />
            </div>
            <div class="field">
              <label class="field-label" for="cfg-del-prefix-comment">
                {t('config.save.comment')}
              </label>
              <input id="cfg-del-prefix-comment" class="input" value={comment} data-testid="config-comment" onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)} />
            </div>
          </>
        ))}
    </Modal>
  );
}
