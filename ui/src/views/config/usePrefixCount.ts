// The number of keys under the open prefix, counted 120 ms after the prefix
// settles (quick clicks through the tree count once) and again on recount().
// A directory whose first page is on its way waits for it: a first page read
// over the whole prefix brings the count along (etcd counted the range for
// it), so opening a big prefix costs one walk of it, not two at once. (A
// count a page brought earlier is not reused later: counted afresh.) On etcd
// 3.7 a first page streams and walks nothing: it brings no count, and the
// count is asked after it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';

export interface KnownCount {
  /** the prefix's first page is being read (it may bring the count) */
  pending: boolean;
  /** the count its first page brought; null: none */
  total: number | null;
}

export function usePrefixCount(connId: string, prefix: string, known: KnownCount = { pending: false, total: null }) {
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const key = `${connId}\u0000${prefix}`;
  // recount() calls since this prefix opened: those always ask.
  const [asked, setAsked] = useState({ key, n: 0 });
  const recounts = asked.key === key ? asked.n : 0;
  const { pending, total } = known;
  /** The prefix whose first page this hook waited for (its count is that page's). */
  const waitedRef = useRef<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    if (recounts === 0 && pending) {
      waitedRef.current = key;
      return;
    }
    if (recounts === 0 && total !== null && waitedRef.current === key) {
      setCount(total);
      return;
    }
    const timer = setTimeout(() => {
      api.configCount(connId, prefix).then(
        (n) => !cancelled && setCount(n),
        (e) => !cancelled && setError(toAppError(e)),
      );
    }, 120);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [connId, prefix, key, recounts, pending, total]);

  return { count, error, recount: () => setAsked((a) => ({ key, n: (a.key === key ? a.n : 0) + 1 })) };
}
