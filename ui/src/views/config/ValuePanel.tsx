// The value of the open key: metadata, editor with format + live validation,
// guarded save (diff → comment → put with the loaded mod_revision), conflict
// handling, delete, and the banner when someone else changes the key.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, KeyMeta, KeyValue, Validation, ValueFormat, WriteResult } from '../../api/types';
import { EDITABLE_FORMATS } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { formatBytes } from './confirm';
import { CodeEditor, ConflictDialog, DiffView, type ConflictOp } from './parts';

export interface ExternalChange {
  key: string;
  revision: number;
  deleted: boolean;
}

interface Props {
  connId: string;
  keyName: string;
  isNew: boolean;
  external: ExternalChange | null;
  hidden?: boolean;
  onWritten: (meta: KeyMeta) => void;
  onDeleted: (key: string, revision: number) => void;
  /** the value as last loaded from etcd (null = new / deleted) */
  onLoaded: (kv: KeyValue | null) => void;
  /** bumping it reloads the value (after a rollback) */
  reloadSignal: number;
  /** The protected prefix covering this key: a save becomes a change request for review. */
  protectedBy?: string | null;
  onProposed?: () => void;
}

const STRUCTURED: ValueFormat[] = ['json', 'yaml', 'toml'];

/** Format a new key starts with, from its name. */
export function formatForName(key: string): ValueFormat {
  if (/\.json$/i.test(key)) return 'json';
  if (/\.ya?ml$/i.test(key)) return 'yaml';
  if (/\.toml$/i.test(key)) return 'toml';
  return 'plain';
}

type Dialog =
  | { type: 'save'; plain: boolean }
  | { type: 'delete' }
  | { type: 'conflict'; op: ConflictOp; theirs: KeyValue | null; mine: string | null; format: ValueFormat; allowInvalid: boolean; comment: string; external?: boolean }
  | null;

export function ValuePanel({ connId, keyName, isNew, external, hidden, onWritten, onDeleted, onLoaded, reloadSignal, protectedBy, onProposed }: Props) {
  const t = useT();
  const toast = useToast();
  const [kv, setKv] = useState<KeyValue | null>(null);
  const [loading, setLoading] = useState(!isNew);
  const [loadError, setLoadError] = useState<AppError | null>(null);
  const [draft, setDraft] = useState('');
  const [format, setFormat] = useState<ValueFormat>(isNew ? formatForName(keyName) : 'plain');
  const [validation, setValidation] = useState<(Validation & { value: string }) | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [writeError, setWriteError] = useState<AppError | null>(null);
  const [gone, setGone] = useState(false); // deleted while open (or never existed)
  const seqRef = useRef(0);

  const loadedRev = kv?.meta.mod_revision ?? 0;
  const dirty = kv ? draft !== kv.value : draft !== '' || isNew || gone;
  const binary = kv?.format === 'binary';

  const accept = (v: KeyValue | null) => {
    setKv(v);
    setDraft(v?.value ?? '');
    if (v) setFormat(v.format);
    setGone(!v && !isNew);
    onLoaded(v);
  };

  const load = async (quiet = false) => {
    const mine = ++seqRef.current;
    if (!quiet) setLoading(true);
    setLoadError(null);
    try {
      const v = await api.configGet(connId, keyName);
      if (mine === seqRef.current) accept(v);
    } catch (e) {
      const err = toAppError(e);
      if (mine !== seqRef.current) return;
      if (err.code === 'not_found' && quiet) accept(null);
      else setLoadError(err);
    } finally {
      if (mine === seqRef.current) setLoading(false);
    }
  };

  useEffect(() => {
    if (isNew) onLoaded(null);
    else void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- loads on open and on each reload signal only
  }, [reloadSignal]);

  // Live validation (debounced) through config_validate.
  useEffect(() => {
    if (binary) return;
    if (!STRUCTURED.includes(format)) {
      setValidation({ format, ok: true, error: null, line: null, column: null, value: draft });
      return;
    }
    let cancelled = false;
    const id = setTimeout(() => {
      api.configValidate(draft, format).then(
        (v) => !cancelled && setValidation({ ...v, value: draft }),
        (e) => !cancelled && setValidation({ format, ok: false, error: toAppError(e).message, line: null, column: null, value: draft }),
      );
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(id);
    };
  }, [draft, format, binary]);

  const fresh = validation !== null && validation.value === draft && validation.format === format;
  const structured = STRUCTURED.includes(format);
  const valid = !structured || (fresh && validation.ok);
  const canSave = !binary && !busy && (dirty || format !== kv?.format) && valid;
  const showPlain = structured && fresh && !validation.ok && !binary;

  // Someone else changed the open key.
  const externalNews = external && external.key === keyName && external.revision > loadedRev && !busy && dialog?.type !== 'conflict';
  useEffect(() => {
    if (externalNews && !dirty && !external.deleted) void load(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reacts to a new external revision only
  }, [external?.revision]);

  const handle = (res: WriteResult, op: ConflictOp, mine: string | null, fmt: ValueFormat, allowInvalid: boolean, c: string) => {
    if (res.status === 'written') {
      setDialog(null);
      setComment('');
      if (op === 'delete') {
        toast.push({ kind: 'ok', title: t('config.toast.deleted', { key: keyName }) });
        onDeleted(keyName, res.meta.mod_revision);
        accept(null);
        return;
      }
      toast.push({ kind: 'ok', title: t('config.toast.saved', { key: keyName, revision: res.meta.mod_revision }) });
      onWritten(res.meta);
      const size = new TextEncoder().encode(mine ?? '').length;
      const next: KeyValue = { meta: res.meta, value: mine ?? '', format: fmt, size, lease_ttl: kv?.lease_ttl ?? null, revision: res.revision };
      setKv(next);
      setGone(false);
      setDraft(next.value);
      setFormat(fmt);
      onLoaded(next);
    } else {
      setDialog({ type: 'conflict', op, theirs: res.current, mine, format: fmt, allowInvalid, comment: c });
    }
  };

  const write = async (op: ConflictOp, expected: number, mine: string | null, fmt: ValueFormat, allowInvalid: boolean, c: string) => {
    setBusy(true);
    setWriteError(null);
    try {
      const res =
        op === 'delete'
          ? await api.configDelete(connId, keyName, expected, c)
          : await api.configPut(connId, keyName, mine ?? '', expected, fmt, allowInvalid, c);
      handle(res, op, mine, fmt, allowInvalid, c);
    } catch (e) {
      setWriteError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  // A protected key is not written: the edit is proposed for review.
  const propose = async (c: string) => {
    setBusy(true);
    setWriteError(null);
    try {
      const change = await api.configChangePropose(connId, keyName, draft, c);
      setDialog(null);
      setComment('');
      setDraft(kv?.value ?? '');
      toast.push({ kind: 'ok', title: t('config.changes.proposedToast', { id: change.id }) });
      onProposed?.();
    } catch (e) {
      setWriteError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  const openSave = (plain: boolean) => {
    setWriteError(null);
    setDialog({ type: 'save', plain });
  };

  const compareExternal = async () => {
    setBusy(true);
    try {
      const theirs = await api.configGet(connId, keyName).catch((e) => {
        if (toAppError(e).code === 'not_found') return null;
        throw e;
      });
      setDialog({ type: 'conflict', op: 'save', theirs, mine: draft, format, allowInvalid: !valid, comment: '', external: true });
    } catch (e) {
      toast.push({ kind: 'error', title: t('config.errors.loadValue'), detail: toAppError(e).message });
    } finally {
      setBusy(false);
    }
  };

  if (loading)
    return (
      <div class="cfg-panel-state" hidden={hidden}>
        <Spinner size="md" /> {t('common.loading')}
      </div>
    );
  if (loadError)
    return (
      <div class="cfg-panel-state" hidden={hidden}>
        <ErrorState error={loadError} title={t('config.errors.loadValue')} onRetry={() => void load()} />
      </div>
    );

  const v = fresh ? validation : null;
  const lease = kv && kv.meta.lease !== 0;

  return (
    <div class="cfg-value" hidden={hidden}>
      <div class="cfg-value-head">
        <div class="cfg-value-title">
          <Icon name="key" size={15} />
          <span class="cfg-value-key mono selectable" data-testid="config-value-key">
            {keyName}
          </span>
          {isNew && !kv && <span class="pill">{t('config.value.newKey')}</span>}
          {gone && <span class="pill pill-warn">{t('config.value.deletedPill')}</span>}
        </div>
        {kv && (
          <dl class="cfg-meta">
            <div>
              <dt>{t('config.value.modRevision')}</dt>
              <dd>{kv.meta.mod_revision}</dd>
            </div>
            <div>
              <dt>{t('config.value.createRevision')}</dt>
              <dd>{kv.meta.create_revision}</dd>
            </div>
            <div>
              <dt>{t('config.value.version')}</dt>
              <dd>{kv.meta.version}</dd>
            </div>
            <div>
              <dt>{t('config.value.size')}</dt>
              <dd>{formatBytes(kv.size)}</dd>
            </div>
            <div>
              <dt>{t('config.value.detected')}</dt>
              <dd>{t(`config.format.${kv.format}`)}</dd>
            </div>
            {lease && (
              <div>
                <dt>{t('config.value.lease')}</dt>
                <dd>
                  <span class="cfg-lease">{kv.meta.lease.toString(16)}</span>{' '}
                  {kv.lease_ttl !== null && t('config.value.ttl', { seconds: kv.lease_ttl })}
                </dd>
              </div>
            )}
          </dl>
        )}
      </div>

      {externalNews && (
        <div class="banner banner-warn cfg-watch-banner" role="status" data-testid="config-watch-banner">
          <Icon name="alert" class="banner-icon" />
          <strong class="banner-title">
            {external.deleted ? t('config.watch.deletedBy', { revision: external.revision }) : t('config.watch.changedBy', { revision: external.revision })}
          </strong>
          <span class="banner-body">{dirty ? t('config.watch.yourEditKept') : ''}</span>
          <span class="toolbar-spacer" />
          {!external.deleted && (
            <button type="button" class="btn btn-sm" onClick={() => void load(true)} data-testid="config-watch-reload">
              {t('config.watch.reload')}
            </button>
          )}
          <button type="button" class="btn btn-sm" onClick={() => void compareExternal()} data-testid="config-watch-compare">
            {t('config.watch.compare')}
          </button>
        </div>
      )}

      {binary ? (
        <div class="cfg-binary">
          <div class="banner banner-info" role="status">
            <Icon name="info" class="banner-icon" />
            <strong class="banner-title">{t('config.value.binaryTitle')}</strong>
            <span class="banner-body">{t('config.value.binaryBody')}</span>
          </div>
          <CodeEditor value={draft} readOnly label={t('config.value.editorLabel')} testid="config-editor" />
        </div>
      ) : (
        <>
          <div class="cfg-editor-bar">
            <label class="cfg-inline-label" for="cfg-format">
              {t('config.value.format')}
            </label>
            <select
              id="cfg-format"
              class="input input-sm"
              value={format}
              data-testid="config-format"
              onChange={(e) => setFormat((e.currentTarget as HTMLSelectElement).value as ValueFormat)}
            >
              {EDITABLE_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {t(`config.format.${f}`)}
                </option>
              ))}
            </select>
            <div
              class={`cfg-validation ${v ? (v.ok ? 'cfg-valid' : 'cfg-invalid') : 'cfg-validating'}`}
              data-testid="config-validation"
              data-ok={validation ? String(validation.ok) : 'true'}
              data-pending={fresh ? undefined : 'true'}
              role="status"
              aria-live="polite"
            >
              {!v ? (
                <>
                  <Spinner /> {t('config.value.validating')}
                </>
              ) : v.ok ? (
                <>
                  <Icon name="check" size={14} /> {structured ? t('config.value.valid', { format: t(`config.format.${format}`) }) : t('config.value.plainNote')}
                </>
              ) : (
                <>
                  <Icon name="alert" size={14} />
                  <span class="truncate" title={v.error ?? ''}>
                    {v.line !== null
                      ? t('config.value.invalidAt', { line: v.line, column: v.column ?? 1, error: v.error ?? '' })
                      : t('config.value.invalid', { error: v.error ?? '' })}
                  </span>
                </>
              )}
            </div>
            {dirty && <span class="pill">{t('config.value.modified')}</span>}
          </div>
          <CodeEditor
            value={draft}
            onInput={setDraft}
            errorLine={v && !v.ok ? v.line : null}
            label={t('config.value.editorLabel')}
            testid="config-editor"
          />
          <div class="cfg-actions">
            {kv && (
              <button type="button" class="btn btn-sm btn-danger-ghost" onClick={() => setDialog({ type: 'delete' })} data-testid="config-delete-key" disabled={busy}>
                <Icon name="trash" size={14} />
                {t('config.value.delete')}
              </button>
            )}
            <span class="toolbar-spacer" />
            {dirty && kv && (
              <button type="button" class="btn btn-sm btn-ghost" onClick={() => accept(kv)} data-testid="config-revert">
                {t('config.value.revert')}
              </button>
            )}
            {showPlain && (
              <button type="button" class="btn btn-sm" onClick={() => openSave(true)} data-testid="config-save-plain" title={t('config.value.savePlainHint')}>
                {t('config.value.savePlain')}
              </button>
            )}
            <button type="button" class="btn btn-sm btn-primary" disabled={!canSave} onClick={() => openSave(false)} data-testid="config-save">
              {busy && <Spinner />}
              {isNew && !kv ? t('config.value.create') : t('common.save')}
            </button>
          </div>
        </>
      )}

      {dialog?.type === 'save' && (
        <Modal
          title={kv ? t('config.save.title', { key: keyName }) : t('config.save.titleNew', { key: keyName })}
          onClose={() => !busy && setDialog(null)}
          size="lg"
          testid="config-diff"
          initialFocus="[data-testid=config-comment]"
          onSubmit={() => {
            if (protectedBy) {
              void propose(comment.trim());
              return;
            }
            const fmt = dialog.plain ? 'plain' : format;
            void write('save', loadedRev, draft, fmt, dialog.plain, comment.trim());
          }}
          footer={
            <>
              <span class="modal-footer-hint">
                {kv ? t('config.save.guard', { revision: loadedRev }) : t('config.save.guardNew')}
              </span>
              <button type="button" class="btn" onClick={() => setDialog(null)} disabled={busy}>
                {t('common.cancel')}
              </button>
              <button type="submit" class="btn btn-primary" data-testid="config-confirm-save" disabled={busy}>
                {busy && <Spinner />}
                {protectedBy ? t('config.changes.propose') : dialog.plain ? t('config.save.confirmPlain') : t('config.save.confirm')}
              </button>
            </>
          }
        >
          {protectedBy && (
            <div class="confirm-strip" role="status" data-testid="config-protected-note">
              <Icon name="alert" /> <span>{t('config.changes.protectedNote', { prefix: protectedBy })}</span>
            </div>
          )}
          {dialog.plain && (
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
              onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          {writeError && <ErrorState error={writeError} inline title={t('config.errors.writeFailed')} />}
        </Modal>
      )}

      {dialog?.type === 'delete' && kv && (
        <Modal
          title={t('config.delete.title')}
          onClose={() => !busy && setDialog(null)}
          testid="config-delete-dialog"
          initialFocus="#cfg-del-comment"
          onSubmit={() => void write('delete', loadedRev, null, format, false, comment.trim())}
          footer={
            <>
              <button type="button" class="btn" onClick={() => setDialog(null)} disabled={busy}>
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
            <input id="cfg-del-comment" class="input" value={comment} onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)} data-testid="config-comment" />
          </div>
          {writeError && <ErrorState error={writeError} inline title={t('config.errors.writeFailed')} />}
        </Modal>
      )}

      {dialog?.type === 'conflict' && (
        <ConflictDialog
          keyName={keyName}
          theirs={dialog.theirs}
          mine={dialog.mine}
          op={dialog.op}
          busy={busy}
          error={writeError}
          title={dialog.external ? t('config.conflict.externalTitle') : undefined}
          onKeepEditing={() => {
            setWriteError(null);
            setDialog(null);
          }}
          onReloadTheirs={() => {
            setWriteError(null);
            setDialog(null);
            accept(dialog.theirs);
            if (!dialog.theirs) setGone(true);
          }}
          onOverwrite={() =>
            void write(dialog.op, dialog.theirs?.meta.mod_revision ?? 0, dialog.mine, dialog.format, dialog.allowInvalid, dialog.comment)
          }
        />
      )}
    </div>
  );
}
