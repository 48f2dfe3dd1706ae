// Writing the open key: the dialog open (save with its diff, delete, or a
// conflict), its comment, and the guarded writes — each put or delete names the
// mod_revision it expects, and a newer one in etcd opens the conflict dialog. A
// key under a protected prefix is not written: the edit is proposed for review.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, KeyMeta, KeyValue, ValueFormat, WriteResult } from '../../../api/types';
import { useToast } from '../../../components/Toast';
import { useT } from '../../../i18n';
import type { ConflictOp } from '../ConflictDialog';
import type { KeyValueState } from './useKeyValue';

export type WriteDialog =
  | { type: 'save'; plain: boolean }
  | { type: 'delete' }
  | { type: 'conflict'; op: ConflictOp; theirs: KeyValue | null; mine: string | null; format: ValueFormat; allowInvalid: boolean; comment: string; external?: boolean }
  | null;

interface Callbacks {
  onWritten: (meta: KeyMeta) => void;
  onDeleted: (key: string, revision: number) => void;
  onProposed?: () => void;
}

export function useKeyWrite(connId: string, keyName: string, value: KeyValueState, { onWritten, onDeleted, onProposed }: Callbacks) {
  const t = useT();
  const toast = useToast();
  const [dialog, setDialog] = useState<WriteDialog>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const { kv, draft, format, accept } = value;

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
      accept({ meta: res.meta, value: mine ?? '', format: fmt, size, lease_ttl: kv?.lease_ttl ?? null, revision: res.revision }, true);
    } else {
      setDialog({ type: 'conflict', op, theirs: res.current, mine, format: fmt, allowInvalid, comment: c });
    }
  };

  /** Saves `mine` (or deletes, for op "delete") if the key is still at `expected`. */
  const write = async (op: ConflictOp, expected: number, mine: string | null, fmt: ValueFormat, allowInvalid: boolean, c: string) => {
    setBusy(true);
    setError(null);
    try {
      const res =
        op === 'delete'
          ? await api.configDelete(connId, keyName, expected, c)
          : await api.configPut(connId, keyName, mine ?? '', expected, fmt, allowInvalid, c);
      handle(res, op, mine, fmt, allowInvalid, c);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  // A protected key is not written: the edit is proposed for review.
  const propose = async (c: string) => {
    setBusy(true);
    setError(null);
    try {
      const change = await api.configChangePropose(connId, keyName, draft, c);
      setDialog(null);
      setComment('');
      value.setDraft(kv?.value ?? '');
      toast.push({ kind: 'ok', title: t('config.changes.proposedToast', { id: change.id }) });
      onProposed?.();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  /** Someone else changed the key: their value against the draft, in the conflict dialog. */
  const compareExternal = async (valid: boolean) => {
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

  return {
    dialog,
    setDialog,
    comment,
    setComment,
    busy,
    error,
    setError,
    write,
    propose,
    compareExternal,
    openSave: (plain: boolean) => {
      setError(null);
      setDialog({ type: 'save', plain });
    },
    /** Closes the dialog (and forgets its error). */
    dismiss: () => {
      setError(null);
      setDialog(null);
    },
  };
}

export type KeyWriteState = ReturnType<typeof useKeyWrite>;
