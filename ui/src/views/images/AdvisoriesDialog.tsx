// Import OSV advisories (a .zip as OSV publishes them, or a folder of JSON
// records) from a local path; scanned images are re-matched right after and
// the note of what changed is shown (and kept: the Fleet tab lists the notes).
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';
import type { AdvisoryUpdate } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { RematchChanges } from './RematchChanges';

export function AdvisoriesDialog({ onClose, onImported }: { onClose: () => void; onImported: () => void }) {
  const t = useT();
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [result, setResult] = useState<AdvisoryUpdate | null>(null);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.advisoriesImport(path.trim());
      setResult(r);
      onImported();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      title={t('images.advisories.title')}
      onClose={onClose}
      testid="advisories-dialog"
      initialFocus="[data-testid=advisories-path]"
      onSubmit={() => void run()}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.close')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy || !path.trim()} data-testid="advisories-import">
            {busy && <Spinner size="sm" />}
            {t('images.advisories.import')}
          </button>
        </>
      }
    >
      <p class="muted">{t('images.advisories.intro')}</p>
      <label class="field">
        <span class="field-label">{t('images.advisories.path')}</span>
        <input class="input mono" value={path} onInput={(e) => setPath(e.currentTarget.value)} placeholder="/srv/osv/all.zip" data-testid="advisories-path" />
      </label>
      {error && <ErrorState error={error} inline />}
      {result && (
        <div class="img-import-result" data-testid="advisories-result" data-records={result.import.records}>
          <p>{t('images.advisories.done', { count: result.import.records, skipped: result.import.skipped_ecosystems })}</p>
          <RematchChanges rematched={result.rematched} />
          {result.import.malformed.length > 0 && (
            <details>
              <summary>{t('images.advisories.malformed', { count: result.import.malformed.length })}</summary>
              <ul>
                {result.import.malformed.slice(0, 50).map(([f, why]) => (
                  <li key={f}>
                    <span class="mono">{f}</span>: {why}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </Modal>
  );
}
