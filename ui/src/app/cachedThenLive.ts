// A connection's inventory as the workspaces show it: the snapshot cached by
// the backend painted first (instant, works offline), then the live one from
// the service, which replaces it; `refresh` fetches the live one again.
// `cachedAt` is set while the cached snapshot is what is shown.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { toAppError } from '../api/client';
import type { AppError } from '../api/types';
import type { Snapshot } from '../api/types';

export function useCachedThenLive<T>(
  connectionId: string,
  cached: (connectionId: string) => Promise<Snapshot<T> | null>,
  live: (connectionId: string) => Promise<T>,
) {
  const [data, setData] = useState<T | null>(null);
  const [cachedAt, setCachedAt] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const refresh = useCallback(() => {
    setLoading(true);
    live(connectionId).then(
      (v) => {
        setData(v);
        setCachedAt(null);
        setError(null);
        setLoading(false);
      },
      (e) => {
        setError(toAppError(e));
        setLoading(false);
      },
    );
  }, [connectionId, live]);

  useEffect(() => {
    let current = true;
    setData(null);
    setError(null);
    cached(connectionId).then(
      (c) => {
        if (current && c) {
          setData((cur) => cur ?? c.payload);
          setCachedAt((cur) => cur ?? c.fetched_at);
        }
      },
      () => {},
    );
    refresh();
    return () => {
      current = false;
    };
  }, [connectionId, cached, refresh]);

  return { data, setData, cachedAt, loading, error, refresh };
}
