// Searching under the open prefix: the text typed, and the matches (null while
// nothing is typed), asked 300 ms after the typing stops. Key names only (one
// call), or — with `inValues` — key names and values, scanned by the backend
// in pages with hits streamed as they are found and kept in key order (`hits` holds where each key
// matched, for highlighting); a new text or closing the search stops the scan.
// `fuzzy` runs that same scan with the backend's fuzzy matcher (letters in
// order with gaps, in key names and values; every matched run marked).
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, SearchHit, TreeEntry } from '../../api/types';
import { cmpKey } from './tree';

/** Most matches asked for. */
export const SEARCH_LIMIT = 500;

/**
 * `list` with `entry` in key order: a big prefix is scanned by several
 * scanners at once, so hits arrive out of key order.
 */
export function insertByKey(list: TreeEntry[], entry: TreeEntry): TreeEntry[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmpKey(list[mid].key, entry.key) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo]?.key === entry.key) return list;
  return [...list.slice(0, lo), entry, ...list.slice(lo)];
}

const entryOf = (hit: SearchHit): TreeEntry => ({ name: hit.key.split('/').pop() || hit.key, key: hit.key, is_dir: false, meta: hit.meta });

export function useKeySearch(connId: string, prefix: string) {
  const [search, setSearch] = useState('');
  const [inValues, setInValues] = useState(false);
  const [fuzzy, setFuzzy] = useState(false);
  const [results, setResults] = useState<TreeEntry[] | null>(null);
  const [hits, setHits] = useState<Record<string, SearchHit>>({});
  const [scanned, setScanned] = useState<number | null>(null);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    const text = search.trim();
    setHits({});
    setScanned(null);
    if (!text) {
      setResults(null);
      setError(null);
      return;
    }
    let cancelled = false;
    let stop: (() => Promise<void>) | null = null;
    const timer = setTimeout(() => {
      setSearching(true);
      if (!inValues && !fuzzy) {
        api.configSearch(connId, prefix, text, SEARCH_LIMIT).then(
          (r) => {
            if (cancelled) return;
            setResults(r);
            setError(null);
            setSearching(false);
          },
          (e) => {
            if (cancelled) return;
            setError(toAppError(e));
            setSearching(false);
          },
        );
        return;
      }
      setResults([]);
      setError(null);
      api
        .configValueSearch(connId, prefix, text, fuzzy ? 'fuzzy' : 'substring', SEARCH_LIMIT, (ev) => {
          if (cancelled) return;
          if (ev.type === 'hit') {
            setResults((r) => insertByKey(r ?? [], entryOf(ev.hit)));
            setHits((h) => ({ ...h, [ev.hit.key]: ev.hit }));
          } else if (ev.type === 'progress') {
            setScanned(ev.scanned);
          } else if (ev.type === 'done') {
            setScanned(ev.scanned);
            setSearching(false);
          } else {
            setError({ code: ev.code, message: ev.message } as AppError);
            setSearching(false);
          }
        })
        .then(
          (s) => {
            if (cancelled) void s().catch(() => {});
            else stop = s;
          },
          (e) => {
            if (cancelled) return;
            setError(toAppError(e));
            setSearching(false);
          },
        );
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      if (stop) void stop().catch(() => {});
    };
  }, [connId, prefix, search, inValues, fuzzy]);

  return {
    search,
    setSearch,
    inValues,
    setInValues,
    /** Fuzzy matching over key names and values (the streamed scan). */
    fuzzy,
    setFuzzy,
    /** Hits (with where they matched) are streamed: in values or fuzzy. */
    streamed: inValues || fuzzy,
    results,
    /** Streamed: where each matching key matched. */
    hits,
    /** With inValues: keys scanned so far. */
    scanned,
    searching,
    error,
    /** Drops a deleted key from the matches. */
    drop: (key: string) => setResults((r) => r && r.filter((e) => e.key !== key)),
    /** No text, no matches (another connection). */
    reset: () => {
      setSearch('');
      setResults(null);
    },
  };
}
