// The number of keys under the open prefix, counted 120 ms after the prefix
// settles (quick clicks through the tree count once) and again on recount().
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';

export function usePrefixCount(connId: string, prefix: string) {
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setError(null);
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
  }, [connId, prefix, nonce]);

  return { count, error, recount: () => setNonce((n) => n + 1) };
}
