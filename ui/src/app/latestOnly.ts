// A load whose newest call wins: an older answer arriving late (the user
// changed a filter meanwhile) is dropped, and `loading`/`error` follow the
// newest call only.
import { useRef, useState } from 'preact/hooks';
import { toAppError } from '../api/client';
import type { AppError } from '../api/types';

export function useLatestOnly() {
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const seqRef = useRef(0);
  const run = async <T,>(task: () => Promise<T>, apply: (result: T) => void) => {
    const mine = ++seqRef.current;
    setLoading(true);
    try {
      const r = await task();
      if (mine !== seqRef.current) return;
      apply(r);
      setError(null);
    } catch (e) {
      if (mine !== seqRef.current) return;
      setError(toAppError(e));
    } finally {
      if (mine === seqRef.current) setLoading(false);
    }
  };
  return { loading, error, run };
}
