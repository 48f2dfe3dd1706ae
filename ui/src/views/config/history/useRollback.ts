// Rolling a key back to an older revision: the revision asked about, its
// comment, and the guarded write (it expects the current revision; a newer one
// in etcd opens the conflict dialog, from which it can be overwritten).
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, HistoryEntry, KeyValue } from '../../../api/types';
import { useToast } from '../../../components/Toast';
import { useT } from '../../../i18n';

export function useRollback(connId: string, keyName: string, onRolledBack: () => void) {
  const t = useT();
  const toast = useToast();
  const [rollback, setRollback] = useState<HistoryEntry | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [conflict, setConflict] = useState<{ theirs: KeyValue | null; entry: HistoryEntry } | null>(null);

  /** Writes `entry`'s value back if the key is still at `expected`. */
  const run = async (entry: HistoryEntry, expected: number) => {
    setBusy(true);
    setError(null);
    try {
      const res = await api.configRollback(connId, keyName, entry.mod_revision, expected, comment.trim());
      if (res.status === 'written') {
        toast.push({ kind: 'ok', title: t('config.history.rolledBack', { key: keyName, revision: entry.mod_revision }) });
        setRollback(null);
        setConflict(null);
        setComment('');
        onRolledBack();
      } else {
        setRollback(null);
        setConflict({ theirs: res.current, entry });
      }
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return {
    rollback,
    comment,
    setComment,
    busy,
    error,
    conflict,
    run,
    /** Asks to roll back to `e` (the dialog with its diff). */
    ask: (e: HistoryEntry) => {
      setError(null);
      setRollback(e);
    },
    cancel: () => setRollback(null),
    closeConflict: () => setConflict(null),
  };
}

export type Rollback = ReturnType<typeof useRollback>;
