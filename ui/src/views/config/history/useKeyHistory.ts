// The history of one key (etcd revisions, newest first, and Opsdeck's audit
// entries about it), reloaded when the key or its current revision changes; a
// newer load wins.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, History } from '../../../api/types';

export const HISTORY_LIMIT = 100;

export function useKeyHistory(connId: string, keyName: string, revision: number | undefined) {
  const [history, setHistory] = useState<History | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const seqRef = useRef(0);

  const load = async () => {
    const mine = ++seqRef.current;
    setLoading(true);
    setError(null);
    try {
      const h = await api.configHistory(connId, keyName, HISTORY_LIMIT);
      if (mine === seqRef.current) setHistory(h);
    } catch (e) {
      if (mine === seqRef.current) setError(toAppError(e));
    } finally {
      if (mine === seqRef.current) setLoading(false);
    }
  };

  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reloads when the key or its revision changes
  }, [keyName, revision]);

  return { history, error, loading, load };
}
