// The value of the open key: metadata, editor with format + live validation,
// guarded save (diff → comment → put with the loaded mod_revision), conflict
// handling, delete, and the banner when someone else changes the key.
// State: useKeyValue (loaded value, draft), useValidation, useKeyWrite (dialogs, writes).
import { useEffect } from 'preact/hooks';
import type { KeyMeta, KeyValue, ValueFormat } from '../../api/types';
import { EDITABLE_FORMATS } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { CodeEditor } from './CodeEditor';
import { ConflictDialog } from './ConflictDialog';
import { DeleteKeyDialog } from './value/DeleteKeyDialog';
import { ExternalChangeBanner } from './value/ExternalChangeBanner';
import { KeyMetaHeader } from './value/KeyMetaHeader';
import { SaveDialog } from './value/SaveDialog';
import { SchemaNote, useSchemaFor } from './value/SchemaNote';
import { BinaryValue } from './value/BinaryValue';
import { useKeyValue } from './value/useKeyValue';
import { useKeyWrite } from './value/useKeyWrite';
import { useValidation } from './value/useValidation';
import { ValidationStatus } from './value/ValidationStatus';

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

export function ValuePanel({ connId, keyName, isNew, external, hidden, onWritten, onDeleted, onLoaded, reloadSignal, protectedBy, onProposed }: Props) {
  const t = useT();
  const value = useKeyValue(connId, keyName, isNew, reloadSignal, onLoaded);
  const { kv, draft, format, dirty, binary, loadedRev, load, accept } = value;
  const validation = useValidation(draft, format, binary);
  const { structured, fresh, valid, current: v } = validation;
  const write = useKeyWrite(connId, keyName, value, { onWritten, onDeleted, onProposed });
  const { dialog, busy } = write;
  const schema = useSchemaFor(connId, keyName);

  const canSave = !binary && !busy && (dirty || format !== kv?.format) && valid;
  const showPlain = structured && fresh && !validation.validation?.ok && !binary;

  // Someone else changed the open key.
  const externalNews = external && external.key === keyName && external.revision > loadedRev && !busy && dialog?.type !== 'conflict';
  useEffect(() => {
    if (externalNews && !dirty && !external.deleted) void load(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reacts to a new external revision only
  }, [external?.revision]);

  if (value.loading)
    return (
      <div class="cfg-panel-state" hidden={hidden}>
        <Spinner size="md" /> {t('common.loading')}
      </div>
    );
  if (value.loadError)
    return (
      <div class="cfg-panel-state" hidden={hidden}>
        <ErrorState error={value.loadError} title={t('config.errors.loadValue')} onRetry={() => void load()} />
      </div>
    );

  return (
    <div class="cfg-value" hidden={hidden}>
      <KeyMetaHeader keyName={keyName} kv={kv} isNew={isNew} gone={value.gone} />
      <SchemaNote schema={schema} />

      {externalNews && <ExternalChangeBanner external={external} dirty={dirty} onReload={() => void load(true)} onCompare={() => void write.compareExternal(valid)} />}

      {binary ? (
        <BinaryValue base64={draft} size={kv?.size ?? 0} />
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
              onChange={(e) => value.setFormat((e.currentTarget as HTMLSelectElement).value as ValueFormat)}
            >
              {EDITABLE_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {t(`config.format.${f}`)}
                </option>
              ))}
            </select>
            <ValidationStatus validation={validation} format={format} />
            {dirty && <span class="pill">{t('config.value.modified')}</span>}
          </div>
          <CodeEditor value={draft} onInput={value.setDraft} errorLine={v && !v.ok ? v.line : null} label={t('config.value.editorLabel')} testid="config-editor" />
          <div class="cfg-actions">
            {kv && (
              <button type="button" class="btn btn-sm btn-danger-ghost" onClick={() => write.setDialog({ type: 'delete' })} data-testid="config-delete-key" disabled={busy}>
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
              <button type="button" class="btn btn-sm" onClick={() => write.openSave(true)} data-testid="config-save-plain" title={t('config.value.savePlainHint')}>
                {t('config.value.savePlain')}
              </button>
            )}
            <button type="button" class="btn btn-sm btn-primary" disabled={!canSave} onClick={() => write.openSave(false)} data-testid="config-save">
              {busy && <Spinner />}
              {isNew && !kv ? t('config.value.create') : t('common.save')}
            </button>
          </div>
        </>
      )}

      {dialog?.type === 'save' && <SaveDialog keyName={keyName} plain={dialog.plain} protectedBy={protectedBy} value={value} write={write} />}

      {dialog?.type === 'delete' && kv && <DeleteKeyDialog keyName={keyName} value={value} write={write} />}

      {dialog?.type === 'conflict' && (
        <ConflictDialog
          keyName={keyName}
          theirs={dialog.theirs}
          mine={dialog.mine}
          op={dialog.op}
          busy={busy}
          error={write.error}
          title={dialog.external ? t('config.conflict.externalTitle') : undefined}
          onKeepEditing={write.dismiss}
          onReloadTheirs={() => {
            write.dismiss();
            accept(dialog.theirs);
            if (!dialog.theirs) value.setGone(true);
          }}
          onOverwrite={() => void write.write(dialog.op, dialog.theirs?.meta.mod_revision ?? 0, dialog.mine, dialog.format, dialog.allowInvalid, dialog.comment)}
        />
      )}
    </div>
  );
}
