// Import a JSON or YAML document under a prefix: a dry run lists what would be
// created or updated, then the import applies that plan. A run a fault stopped
// part-way shows its report (committed batches with their revisions, the batch
// whose outcome is unknown, the keys not written) and can be resumed from it.
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, ImportPlan, ImportReport } from '../../../api/types';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';

export function ImportDialog({ connId, prefix, onClose, onImported }: { connId: string; prefix: string; onClose: () => void; onImported: () => void }) {
  const t = useT();
  const [text, setText] = useState('');
  const [plan, setPlan] = useState<{ plan: ImportPlan; doc: string } | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState<'preview' | 'apply' | null>(null);
  const [comment, setComment] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);

  const stale = plan !== null && plan.doc !== text;

  const preview = async () => {
    setBusy('preview');
    setError(null);
    setReport(null);
    try {
      setPlan({ plan: await api.configImportPreview(connId, prefix, text), doc: text });
    } catch (e) {
      setPlan(null);
      setError(toAppError(e));
    } finally {
      setBusy(null);
    }
  };

  const apply = async () => {
    if (!plan || stale) return;
    setBusy('apply');
    setError(null);
    try {
      // A partial report is given back to resume: the backend skips what it committed.
      const previous = report && !report.complete ? report : null;
      setReport(await api.configImport(connId, prefix, plan.doc, comment.trim(), previous));
      onImported();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(null);
    }
  };

  const pick = (file: File | undefined) => {
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      setText(String(reader.result ?? ''));
      setPlan(null);
      setReport(null);
    };
    reader.onerror = () => setError({ code: 'invalid_input', message: t('config.import.readFailed', { file: file.name }) });
    reader.readAsText(file);
  };

  const changes = plan ? plan.plan.creates.length + plan.plan.updates.length : 0;
  const listed = useMemo(() => {
    if (!plan) return [];
    return [...plan.plan.creates.map((r) => ['create', r] as const), ...plan.plan.updates.map((r) => ['update', r] as const)].slice(0, 500);
  }, [plan]);

  return (
    <Modal
      title={t('config.import.title', { prefix })}
      onClose={() => !busy && onClose()}
      size="lg"
      testid="config-import-dialog"
      closeOnBackdrop={false}
      footer={
        report ? (
          <>
            {!report.complete && (
              <button type="button" class="btn" onClick={() => void apply()} disabled={!!busy} data-testid="config-import-resume">
                {busy === 'apply' && <Spinner />}
                {t('config.import.resume')}
              </button>
            )}
            <button type="button" class="btn btn-primary" onClick={onClose} disabled={!!busy}>
              {t('common.close')}
            </button>
          </>
        ) : (
          <>
            <button type="button" class="btn" onClick={onClose} disabled={!!busy}>
              {t('common.cancel')}
            </button>
            <button type="button" class="btn" onClick={() => void preview()} disabled={!text.trim() || !!busy} data-testid="config-import-preview">
              {busy === 'preview' && <Spinner />}
              {t('config.import.preview')}
            </button>
            <button type="button" class="btn btn-primary" onClick={() => void apply()} disabled={!plan || stale || changes === 0 || !!busy} data-testid="config-import-apply">
              {busy === 'apply' && <Spinner />}
              {t('config.import.apply', { count: changes })}
            </button>
          </>
        )
      }
    >
      <p class="muted">{t('config.import.intro', { prefix })}</p>
      <div class="cfg-editor-bar">
        <input
          ref={fileInput}
          type="file"
          class="cfg-file"
          accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml,text/plain"
          data-testid="config-import-file"
          onChange={(e) => pick((e.currentTarget as HTMLInputElement).files?.[0])}
        />
        <button type="button" class="btn btn-sm" onClick={() => fileInput.current?.click()}>
          <Icon name="upload" size={14} />
          {t('config.import.pickFile')}
        </button>
        <span class="muted">{t('config.import.orPaste')}</span>
      </div>
      <textarea
        class="input mono cfg-doc cfg-doc-short"
        value={text}
        wrap="off"
        placeholder={'{\n  "keys": { "service/config.json": "{ … }" }\n}'}
        aria-label={t('config.import.document')}
        data-testid="config-import-text"
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      {error && <ErrorState error={error} inline title={t('config.import.failed')} />}
      {plan && !report && (
        <div class="cfg-plan" data-testid="config-import-plan">
          <h3 class="cfg-section-title">
            {t('config.import.dryRun')}
            {stale && <span class="pill pill-warn">{t('config.import.stale')}</span>}
          </h3>
          <div class="cfg-plan-stats">
            <span class="cfg-stat cfg-stat-create">{t('config.import.creates', { count: plan.plan.creates.length })}</span>
            <span class="cfg-stat cfg-stat-update">{t('config.import.updates', { count: plan.plan.updates.length })}</span>
            <span class="cfg-stat">{t('config.import.unchanged', { count: plan.plan.unchanged })}</span>
            <span class="muted">{t('config.import.total', { count: plan.plan.total })}</span>
          </div>
          {listed.length > 0 ? (
            <ul class="cfg-sample mono">
              {listed.map(([kind, rel]) => (
                <li key={`${kind}:${rel}`} class={`cfg-plan-${kind}`}>
                  <span class="cfg-plan-sign">{kind === 'create' ? '+' : '~'}</span> {prefix}
                  {rel}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t('config.import.nothing')}</p>
          )}
          <div class="field">
            <label class="field-label" for="cfg-import-comment">
              {t('config.save.comment')}
            </label>
            <input id="cfg-import-comment" class="input" value={comment} data-testid="config-comment" onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)} />
          </div>
        </div>
      )}
      {report && report.complete && report.conflicts.length === 0 && (
        <div class="banner banner-info" role="status" data-testid="config-import-report">
          <Icon name="check" class="banner-icon" />
          <strong class="banner-title">{t('config.import.done', { count: report.applied, batches: report.batches })}</strong>
          <span class="banner-body">
            {t('config.import.doneDetail', { creates: report.plan.creates.length, updates: report.plan.updates.length, unchanged: report.plan.unchanged })}
          </span>
        </div>
      )}
      {report && (!report.complete || report.conflicts.length > 0) && <PartialReport report={report} prefix={prefix} />}
    </Modal>
  );
}

/** A run that stopped part-way: what landed, what is unknown, what was not written. */
function PartialReport({ report, prefix }: { report: ImportReport; prefix: string }) {
  const t = useT();
  return (
    <div class="banner banner-warn" role="status" data-testid="config-import-report">
      <Icon name="alert" class="banner-icon" />
      <strong class="banner-title">
        {t('config.import.partial', { count: report.applied, batches: report.batches, notWritten: report.not_written.length })}
      </strong>
      {report.error && <span class="banner-body">{report.error}</span>}
      {report.unknown && (
        <span class="banner-body" data-testid="config-import-unknown">
          {t('config.import.unknown', { index: report.unknown.index, count: report.unknown.keys.length })}
        </span>
      )}
      {report.conflicts.length > 0 && (
        <span class="banner-body">
          {t('config.import.conflicts')} <span class="mono">{report.conflicts.map((m) => m.key).join(', ')}</span>
        </span>
      )}
      <ul class="cfg-sample mono" data-testid="config-import-batches">
        {report.committed.map((b) => (
          <li key={b.index}>{t('config.import.batch', { index: b.index, revision: b.revision, count: b.keys.length })}</li>
        ))}
        {report.not_written.slice(0, 200).map((k) => (
          <li key={k} class="cfg-plan-create">
            {t('config.import.notWritten')} {prefix}
            {k}
          </li>
        ))}
      </ul>
    </div>
  );
}
