// Export a prefix as a JSON or YAML document: copy it or download it as a file.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError } from '../../../api/types';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useToast } from '../../../components/Toast';
import { useT } from '../../../i18n';

export function ExportDialog({ connId, prefix, onClose }: { connId: string; prefix: string; onClose: () => void }) {
  const t = useT();
  const toast = useToast();
  const [format, setFormat] = useState<'json' | 'yaml'>('json');
  const [doc, setDoc] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [url, setUrl] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setDoc(null);
    setError(null);
    api.configExport(connId, prefix, format).then(
      (d) => !cancelled && setDoc(d),
      (e) => !cancelled && setError(toAppError(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [connId, prefix, format]);

  useEffect(() => {
    if (doc === null) return;
    const u = URL.createObjectURL(new Blob([doc], { type: format === 'json' ? 'application/json' : 'application/yaml' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- a new URL per exported document; the format came with it
  }, [doc]);

  const fileName = `${prefix.replace(/^\/+|\/+$/g, '').replace(/[^\w.-]+/g, '_') || 'root'}.${format === 'json' ? 'json' : 'yaml'}`;

  const copy = async () => {
    if (doc === null) return;
    try {
      await navigator.clipboard.writeText(doc);
      toast.push({ kind: 'ok', title: t('config.export.copied') });
    } catch (e) {
      toast.push({ kind: 'error', title: t('config.export.copyFailed'), detail: toAppError(e).message });
    }
  };

  return (
    <Modal
      title={t('config.export.title', { prefix })}
      onClose={onClose}
      size="lg"
      testid="config-export-dialog"
      footer={
        <>
          <span class="modal-footer-hint">{doc !== null && t('config.export.size', { lines: doc.split('\n').length - 1 })}</span>
          <button type="button" class="btn" onClick={() => void copy()} disabled={doc === null} data-testid="config-export-copy">
            <Icon name="copy" size={14} />
            {t('config.export.copy')}
          </button>
          {url && doc !== null ? (
            <a class="btn btn-primary" href={url} download={fileName} data-testid="config-export-download">
              <Icon name="download" size={14} />
              {t('config.export.download', { file: fileName })}
            </a>
          ) : (
            <button type="button" class="btn btn-primary" disabled>
              <Icon name="download" size={14} />
              {t('config.export.download', { file: fileName })}
            </button>
          )}
        </>
      }
    >
      <div class="cfg-editor-bar">
        <label class="cfg-inline-label" for="cfg-export-format">
          {t('config.value.format')}
        </label>
        <select id="cfg-export-format" class="input input-sm" value={format} data-testid="config-export-format" onChange={(e) => setFormat((e.currentTarget as HTMLSelectElement).value as 'json' | 'yaml')}>
          <option value="json">JSON</option>
          <option value="yaml">YAML</option>
        </select>
      </div>
      {error && <ErrorState error={error} inline title={t('config.export.failed')} />}
      {doc === null && !error ? (
        <div class="cfg-panel-state">
          <Spinner size="md" /> {t('config.export.running')}
        </div>
      ) : (
        doc !== null && <textarea class="input mono cfg-doc" readOnly value={doc} aria-label={t('config.export.document')} data-testid="config-export-text" wrap="off" />
      )}
    </Modal>
  );
}
