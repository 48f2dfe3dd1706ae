// The bookmarked keys and prefixes of a connection (stored by the backend in
// its settings, per connection).
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Bookmark } from '../../api/types';

export function useBookmarks(connId: string) {
  const [list, setList] = useState<Bookmark[]>([]);
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    let live = true;
    setList([]);
    setError(null);
    api
      .configBookmarks(connId)
      .then((l) => live && setList(l))
      .catch((e) => live && setError(toAppError(e)));
    return () => {
      live = false;
    };
  }, [connId]);

  const run = async (call: Promise<Bookmark[]>) => {
    try {
      setList(await call);
      setError(null);
    } catch (e) {
      setError(toAppError(e));
    }
  };

  return {
    list,
    error,
    has: (key: string) => list.some((b) => b.key === key),
    add: (key: string) => run(api.configBookmarkAdd(connId, key)),
    remove: (key: string) => run(api.configBookmarkRemove(connId, key)),
  };
}
