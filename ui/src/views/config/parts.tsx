// Building blocks of the Config workspace: the diff view, the code editor
// with line numbers, and the conflict dialog (shared by save, delete, rollback).
import { useMemo, useRef, useState } from 'preact/hooks';
import type { AppError, KeyValue } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { lineDiff } from './diff';

const MAX_DIFF_ROWS = 3000;

/** Unified line diff, +/- coloured, with old/new line numbers. */
export function DiffView({
  oldText,
  newText,
  context = 3,
  compact,
  legend,
}: {
  oldText: string;
  newText: string;
  context?: number | null;
  compact?: boolean;
  /** labels of the two sides, e.g. ["current", "your edit"] */
  legend?: [string, string];
}) {
  const t = useT();
  const d = useMemo(() => lineDiff(oldText, newText, context), [oldText, newText, context]);
  const rows = d.rows.slice(0, MAX_DIFF_ROWS);
  return (
    <div class={`diff${compact ? ' diff-compact' : ''}`}>
      <div class="diff-summary">
        {legend && (
          <span class="diff-legend">
            <span class="diff-legend-del">− {legend[0]}</span>
            <span class="diff-legend-add">+ {legend[1]}</span>
          </span>
        )}
        {d.same ? (
          <span class="muted">{t('config.diff.same')}</span>
        ) : (
          <span>
            <span class="diff-count-add">+{d.added}</span> <span class="diff-count-del">−{d.removed}</span>
          </span>
        )}
      </div>
      {!d.same && (
        <div class="diff-body" role="table" aria-label={t('config.diff.label')}>
          {rows.map((r, i) =>
            r.kind === 'skip' ? (
              <div class="diff-row diff-skip" key={i} role="row">
                <span class="diff-skip-text">{t('config.diff.skipped', { count: r.count })}</span>
              </div>
            ) : (
              <div class={`diff-row diff-${r.kind}`} key={i} role="row">
                <span class="diff-no">{r.oldNo ?? ''}</span>
                <span class="diff-no">{r.newNo ?? ''}</span>
                <span class="diff-sign">{r.kind === 'add' ? '+' : r.kind === 'del' ? '−' : ' '}</span>
                <span class="diff-text">{r.text || ' '}</span>
              </div>
            ),
          )}
          {d.rows.length > MAX_DIFF_ROWS && <div class="diff-row diff-skip">{t('config.diff.truncated', { count: d.rows.length - MAX_DIFF_ROWS })}</div>}
        </div>
      )}
    </div>
  );
}

const GUTTER_SPANS_MAX = 5000;

/** A <textarea> with a line-number gutter (no editor library; CSP friendly). */
export function CodeEditor({
  value,
  onInput,
  readOnly,
  errorLine,
  label,
  testid,
}: {
  value: string;
  onInput?: (v: string) => void;
  readOnly?: boolean;
  errorLine?: number | null;
  label: string;
  testid?: string;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = useMemo(() => {
    let n = 1;
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 10) n++;
    return n;
  }, [value]);
  const numbers =
    lines <= GUTTER_SPANS_MAX
      ? Array.from({ length: lines }, (_, i) => (
          <span key={i} class={errorLine === i + 1 ? 'gutter-line gutter-error' : 'gutter-line'}>
            {i + 1}
          </span>
        ))
      : Array.from({ length: lines }, (_, i) => i + 1).join('\n');
  return (
    <div class={`code-editor${readOnly ? ' code-editor-readonly' : ''}`}>
      <div class="code-gutter" ref={gutter} aria-hidden="true">
        {numbers}
      </div>
      <textarea
        class="code-input"
        value={value}
        readOnly={readOnly}
        spellcheck={false}
        autocomplete="off"
        autocapitalize="off"
        wrap="off"
        aria-label={label}
        data-testid={testid}
        onInput={(e) => onInput?.((e.currentTarget as HTMLTextAreaElement).value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = (e.currentTarget as HTMLTextAreaElement).scrollTop;
        }}
        onKeyDown={(e) => {
          // Tab indents (two spaces) instead of leaving the editor; Esc then Tab still leaves.
          if (e.key === 'Tab' && !e.shiftKey && !readOnly && !e.ctrlKey && !e.metaKey) {
            const ta = e.currentTarget as HTMLTextAreaElement;
            e.preventDefault();
            const { selectionStart: a, selectionEnd: b } = ta;
            const next = `${ta.value.slice(0, a)}  ${ta.value.slice(b)}`;
            ta.value = next;
            ta.selectionStart = ta.selectionEnd = a + 2;
            onInput?.(next);
          }
        }}
      />
    </div>
  );
}

export type ConflictOp = 'save' | 'delete' | 'rollback';

/**
 * "Someone changed this key since you opened it": their value (or deleted),
 * the diff theirs → mine, and reload / overwrite (after a confirmation) / keep editing.
 */
export function ConflictDialog({
  keyName,
  theirs,
  mine,
  op,
  busy,
  error,
  onReloadTheirs,
  onOverwrite,
  onKeepEditing,
  title,
}: {
  keyName: string;
  theirs: KeyValue | null;
  /** what we tried to write; null for a delete */
  mine: string | null;
  op: ConflictOp;
  busy: boolean;
  error: AppError | null;
  onReloadTheirs: () => void;
  onOverwrite: () => void;
  onKeepEditing: () => void;
  title?: string;
}) {
  const t = useT();
  const [confirming, setConfirming] = useState(false);
  const theirRev = theirs?.meta.mod_revision ?? null;
  const footer = (
      <>
        <button type="button" class="btn" onClick={onKeepEditing} data-testid="config-keep-editing" disabled={busy}>
          {t('config.conflict.keepEditing')}
        </button>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-primary" onClick={onReloadTheirs} data-testid="config-reload-theirs" disabled={busy}>
          <Icon name="refresh" size={14} />
          {theirs ? t('config.conflict.reloadTheirs') : t('config.conflict.acceptDelete')}
        </button>
        {!(op === 'delete' && !theirs) &&
          (confirming ? (
            <button type="button" class="btn btn-danger" onClick={onOverwrite} data-testid="config-overwrite-confirm" disabled={busy}>
              {busy && <Spinner />}
              {op === 'delete' ? t('config.conflict.deleteAnywayConfirm') : t('config.conflict.overwriteConfirm')}
            </button>
          ) : (
            <button type="button" class="btn btn-danger-ghost" onClick={() => setConfirming(true)} data-testid="config-overwrite" disabled={busy}>
              {op === 'delete' ? t('config.conflict.deleteAnyway') : t('config.conflict.overwrite')}
            </button>
          ))}
      </>
  );
  return (
    <Modal title={title ?? t('config.conflict.title')} onClose={onKeepEditing} size="lg" testid="config-conflict" closeOnBackdrop={false} footer={footer}>
      <div class="conflict">
        <div class="conflict-lead" role="alert">
          <Icon name="alert" class="conflict-icon" />
          <div>
            <strong>{t('config.conflict.lead')}</strong>
            <div class="muted">
              {theirs
                ? t('config.conflict.changedAt', { key: keyName, revision: theirs.meta.mod_revision, version: theirs.meta.version })
                : t('config.conflict.deleted', { key: keyName })}
            </div>
          </div>
        </div>
        <h3 class="conflict-h">{t('config.conflict.theirs')}</h3>
        {theirs ? (
          <pre class="conflict-value mono" data-testid="config-conflict-theirs">
            {theirs.value}
          </pre>
        ) : (
          <div class="conflict-value conflict-deleted" data-testid="config-conflict-theirs">
            {t('config.conflict.deletedValue')}
          </div>
        )}
        {mine !== null && (
          <>
            <h3 class="conflict-h">{t('config.conflict.diffTitle')}</h3>
            <DiffView oldText={theirs?.value ?? ''} newText={mine} legend={[t('config.conflict.legendTheirs'), t('config.conflict.legendMine')]} />
          </>
        )}
        {error && <ErrorState error={error} inline title={t('config.errors.writeFailed')} />}
        {confirming && (
          <div class="confirm-strip" role="alert">
            <Icon name="alert" />
            <span>
              {op === 'delete'
                ? t('config.conflict.confirmDelete', { revision: theirRev ?? 0 })
                : theirs
                  ? t('config.conflict.confirmOverwrite', { revision: theirRev ?? 0 })
                  : t('config.conflict.confirmRecreate')}
            </span>
          </div>
        )}
      </div>
    </Modal>
  );
}
