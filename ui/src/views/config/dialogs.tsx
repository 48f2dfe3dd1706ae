// Dialogs of the Config workspace that act on a prefix: new key, delete
// prefix, compare & copy, export, import.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, CopyReport, DeletePreview, DiffItem, ImportPlan, ImportReport, PrefixDiff } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { deleteConfirmed, newKeyName, newKeyProblem } from './confirm';
import { DiffView } from './parts';

// ---- new key ------------------------------------------------------------------

export function NewKeyDialog({ prefix, onClose, onCreate }: { prefix: string; onClose: () => void; onCreate: (key: string) => void }) {
  const t = useT();
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const problem = newKeyProblem(name);
  return (
    <Modal
      title={t('config.newKey.title')}
      onClose={onClose}
      testid="config-new-key-dialog"
      initialFocus="#cfg-new-name"
      onSubmit={() => {
        setTouched(true);
        if (!problem) onCreate(newKeyName(prefix, name));
      }}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" data-testid="config-new-key-create">
            {t('config.newKey.next')}
          </button>
        </>
      }
    >
      <div class={`field${touched && problem ? ' field-invalid' : ''}`}>
        <label class="field-label" for="cfg-new-name">
          {t('config.newKey.name')}
        </label>
        <div class="input-group cfg-prefixed">
          <span class="cfg-prefix mono">{prefix}</span>
          <input
            id="cfg-new-name"
            class="input mono"
            value={name}
            placeholder="service/config.json"
            data-testid="config-new-key-name"
            aria-invalid={touched && !!problem}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        {touched && problem ? (
          <div class="field-error" role="alert">
            {t(`config.newKey.problem.${problem}`)}
          </div>
        ) : (
          <div class="field-hint">{t('config.newKey.hint')}</div>
        )}
      </div>
    </Modal>
  );
}

// ---- delete prefix ------------------------------------------------------------------

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

// ---- compare -----------------------------------------------------------------------

type Section = 'only_left' | 'only_right' | 'different';
const SECTIONS: Section[] = ['only_left', 'different', 'only_right'];

export function CompareDialog({ connId, initialLeft, onClose, onCopied }: { connId: string; initialLeft: string; onClose: () => void; onCopied: () => void }) {
  const t = useT();
  const toast = useToast();
  const guessRight = initialLeft.replace(/\/dev\/$/, '/prod/');
  const [left, setLeft] = useState(initialLeft);
  const [right, setRight] = useState(guessRight !== initialLeft ? guessRight : '');
  const [result, setResult] = useState<PrefixDiff | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [running, setRunning] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [comment, setComment] = useState('');
  const [copying, setCopying] = useState(false);
  const [report, setReport] = useState<CopyReport | null>(null);

  const norm = (p: string) => (p.trim() && !p.trim().endsWith('/') ? `${p.trim()}/` : p.trim());

  const run = async () => {
    const l = norm(left);
    const r = norm(right);
    setLeft(l);
    setRight(r);
    if (!l || !r) return;
    setRunning(true);
    setError(null);
    try {
      const res = await api.configCompare(connId, l, r);
      setResult(res);
      setSelected(new Set());
      setOpen(new Set(res.different.slice(0, 3).map((d) => d.rel)));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setRunning(false);
    }
  };

  const copy = async () => {
    if (!result) return;
    setCopying(true);
    setError(null);
    try {
      // Guarded by the revisions shown in this comparison: nothing the user did not see is copied.
      const rows = [...result.only_left, ...result.different].filter((d) => selected.has(d.rel));
      const items = rows.map((d) => ({ rel: d.rel, left_mod_revision: d.left_mod_revision, right_mod_revision: d.right_mod_revision }));
      const rep = await api.configCopy(connId, result.left, result.right, items, comment.trim());
      setReport(rep);
      setConfirming(false);
      if (rep.conflicts.length === 0) toast.push({ kind: 'ok', title: t('config.compare.copied', { count: rep.copied, to: result.right }) });
      onCopied();
      await run();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setCopying(false);
    }
  };

  const toggleSel = (rel: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(rel)) n.delete(rel);
      else n.add(rel);
      return n;
    });

  const renderRow = (section: Section, d: DiffItem) => {
    const copyable = section !== 'only_right';
    const isOpen = open.has(d.rel);
    return (
      <li key={`${section}:${d.rel}`} class={`cmp-row cmp-${section}`} data-testid="config-diff-row" data-rel={d.rel} data-section={section}>
        <div class="cmp-row-head">
          <input
            type="checkbox"
            class="check"
            checked={selected.has(d.rel)}
            disabled={!copyable}
            aria-label={t('config.compare.select', { rel: d.rel })}
            onChange={() => toggleSel(d.rel)}
          />
          <span class="mono cmp-rel">{d.rel}</span>
          <span class="muted cmp-revs">
            {section !== 'only_right' && t('config.compare.leftRev', { revision: d.left_mod_revision })}
            {section === 'different' && ' · '}
            {section !== 'only_left' && t('config.compare.rightRev', { revision: d.right_mod_revision })}
          </span>
          <span class="toolbar-spacer" />
          {section === 'different' && (
            <button
              type="button"
              class="btn btn-sm btn-ghost"
              aria-expanded={isOpen}
              onClick={() =>
                setOpen((s) => {
                  const n = new Set(s);
                  if (n.has(d.rel)) n.delete(d.rel);
                  else n.add(d.rel);
                  return n;
                })
              }
            >
              <Icon name={isOpen ? 'chevronDown' : 'chevronRight'} size={14} />
              {t('config.compare.showDiff')}
            </button>
          )}
        </div>
        {section === 'different' && isOpen && (
          <DiffView compact oldText={d.left ?? ''} newText={d.right ?? ''} legend={[result!.left, result!.right]} />
        )}
        {section !== 'different' && <code class="cmp-preview">{(section === 'only_left' ? d.left : d.right) ?? ''}</code>}
      </li>
    );
  };

  return (
    <Modal
      title={t('config.compare.title')}
      onClose={() => !copying && onClose()}
      size="xl"
      testid="config-compare"
      closeOnBackdrop={false}
      initialFocus="#cfg-cmp-right"
      footer={
        result && (
          <>
            <span class="modal-footer-hint">{t('config.compare.selected', { count: selected.size })}</span>
            {confirming ? (
              <>
                <input
                  class="input input-sm cmp-comment"
                  value={comment}
                  placeholder={t('config.save.commentPlaceholder')}
                  data-testid="config-comment"
                  aria-label={t('config.save.comment')}
                  onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)}
                />
                <button type="button" class="btn" onClick={() => setConfirming(false)} disabled={copying}>
                  {t('common.cancel')}
                </button>
                <button type="button" class="btn btn-primary" onClick={() => void copy()} disabled={copying} data-testid="config-copy-confirm">
                  {copying && <Spinner />}
                  {t('config.compare.copyConfirm', { count: selected.size, to: result.right })}
                </button>
              </>
            ) : (
              <button type="button" class="btn btn-primary" disabled={selected.size === 0} onClick={() => setConfirming(true)} data-testid="config-copy-selected">
                <Icon name="copy" size={14} />
                {t('config.compare.copySelected')}
              </button>
            )}
          </>
        )
      }
    >
      <form
        class="cmp-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label class="field-label" for="cfg-cmp-left">
          {t('config.compare.left')}
        </label>
        <input id="cfg-cmp-left" class="input mono" value={left} data-testid="config-compare-left" placeholder="/app/dev/" onInput={(e) => setLeft((e.currentTarget as HTMLInputElement).value)} />
        <Icon name="compare" />
        <label class="field-label" for="cfg-cmp-right">
          {t('config.compare.right')}
        </label>
        <input id="cfg-cmp-right" class="input mono" value={right} data-testid="config-compare-right" placeholder="/app/prod/" onInput={(e) => setRight((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="btn btn-primary" data-testid="config-compare-run" disabled={running || !left.trim() || !right.trim()}>
          {running && <Spinner />}
          {t('config.compare.run')}
        </button>
      </form>
      {error && <ErrorState error={error} inline title={t('config.compare.failed')} />}
      {report && (
        <div class={`banner ${report.conflicts.length ? 'banner-warn' : 'banner-info'}`} role="status" data-testid="config-copy-report">
          <Icon name={report.conflicts.length ? 'alert' : 'check'} class="banner-icon" />
          <strong class="banner-title">{t('config.compare.report', { count: report.copied })}</strong>
          {report.conflicts.length > 0 && (
            <span class="banner-body">
              {t('config.compare.conflicts', { count: report.conflicts.length })} <span class="mono">{report.conflicts.join(', ')}</span>
            </span>
          )}
        </div>
      )}
      {!result && !running && !error && <EmptyState compact icon="compare" title={t('config.compare.hintTitle')}>{t('config.compare.hint')}</EmptyState>}
      {running && !result && (
        <div class="cfg-panel-state">
          <Spinner size="md" /> {t('config.compare.running')}
        </div>
      )}
      {result && (
        <div class="cmp-result">
          <p class="muted">{t('config.compare.summary', { onlyLeft: result.only_left.length, onlyRight: result.only_right.length, different: result.different.length, same: result.same })}</p>
          {SECTIONS.map((s) => {
            const items = result[s];
            const copyable = items.filter(() => s !== 'only_right').map((d) => d.rel);
            const allOn = copyable.length > 0 && copyable.every((r) => selected.has(r));
            return (
              <section key={s} class="cmp-section" data-section={s}>
                <h3 class="cmp-section-title">
                  {s !== 'only_right' && items.length > 0 && (
                    <input
                      type="checkbox"
                      class="check"
                      checked={allOn}
                      aria-label={t('config.compare.selectAll')}
                      onChange={() =>
                        setSelected((cur) => {
                          const n = new Set(cur);
                          for (const r of copyable) {
                            if (allOn) n.delete(r);
                            else n.add(r);
                          }
                          return n;
                        })
                      }
                    />
                  )}
                  {t(`config.compare.section.${s}`, { left: result.left, right: result.right })}
                  <span class="nav-count">{items.length}</span>
                </h3>
                {items.length === 0 ? <p class="muted cmp-none">{t('config.compare.none')}</p> : <ul class="cmp-list">{items.map((d) => renderRow(s, d))}</ul>}
              </section>
            );
          })}
        </div>
      )}
    </Modal>
  );
}

// ---- export ------------------------------------------------------------------------

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

// ---- import ------------------------------------------------------------------------

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
      setReport(await api.configImport(connId, prefix, plan.doc, comment.trim()));
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
          <button type="button" class="btn btn-primary" onClick={onClose}>
            {t('common.close')}
          </button>
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
      {report && (
        <div class="banner banner-info" role="status" data-testid="config-import-report">
          <Icon name="check" class="banner-icon" />
          <strong class="banner-title">{t('config.import.done', { count: report.applied, batches: report.batches })}</strong>
          <span class="banner-body">
            {t('config.import.doneDetail', { creates: report.plan.creates.length, updates: report.plan.updates.length, unchanged: report.plan.unchanged })}
          </span>
        </div>
      )}
    </Modal>
  );
}
