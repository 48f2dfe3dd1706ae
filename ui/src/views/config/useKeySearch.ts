// Searching the keys under the open prefix: the text typed, and the matches
// (null while nothing is typed), asked 300 ms after the typing stops.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, TreeEntry } from '../../api/types';

/** Most matches asked for. */
export const SEARCH_LIMIT = 500;

export function useKeySearch(connId: string, prefix: string) {
  const [search, setSearch] = useState('');
  const [results, setResults] = useState<TreeEntry[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    const text = search.trim();
    if (!text) {
      setResults(null);
      setError(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      setSearching(true);
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
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [connId, prefix, search]);

  return {
    search,
    setSearch,
    results,
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
