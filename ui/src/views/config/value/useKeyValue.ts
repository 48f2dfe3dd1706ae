// The value of one key: as last loaded from etcd (or written), the draft being
// edited, its format, and whether the key is gone (deleted while open, or never
// existed). Loads on open and on each reload signal; a newer load wins.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, KeyValue, ValueFormat } from '../../../api/types';

/** Format a new key starts with, from its name. */
export function formatForName(key: string): ValueFormat {
  if (/\.json$/i.test(key)) return 'json';
  if (/\.ya?ml$/i.test(key)) return 'yaml';
  if (/\.toml$/i.test(key)) return 'toml';
  return 'plain';
}

export function useKeyValue(connId: string, keyName: string, isNew: boolean, reloadSignal: number, onLoaded: (kv: KeyValue | null) => void) {
  const [kv, setKv] = useState<KeyValue | null>(null);
  const [loading, setLoading] = useState(!isNew);
  const [loadError, setLoadError] = useState<AppError | null>(null);
  const [draft, setDraft] = useState('');
  const [format, setFormat] = useState<ValueFormat>(isNew ? formatForName(keyName) : 'plain');
  const [gone, setGone] = useState(false); // deleted while open (or never existed)
  const seqRef = useRef(0);

  /**
   * `v` is now the key's value in etcd (null: there is none): the draft starts
   * over from it — unless `keepDraft` (our own write landed): the draft is then
   * what was written or what the user typed since, which must not be lost.
   */
  const accept = (v: KeyValue | null, keepDraft = false) => {
    setKv(v);
    if (!keepDraft) setDraft(v?.value ?? '');
    if (v) setFormat(v.format);
    setGone(!v && !isNew);
    onLoaded(v);
  };

  /** Loads the value; `quiet` keeps the current view meanwhile and takes "not found" as deleted. */
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

  return {
    kv,
    loading,
    loadError,
    draft,
    setDraft,
    format,
    setFormat,
    gone,
    setGone,
    accept,
    load,
    /** mod_revision of the loaded value (0: none): saves are guarded by it. */
    loadedRev: kv?.meta.mod_revision ?? 0,
    dirty: kv ? draft !== kv.value : draft !== '' || isNew || gone,
    binary: kv?.format === 'binary',
  };
}

export type KeyValueState = ReturnType<typeof useKeyValue>;
