// The key tree of one etcd connection: the pages of each directory, loaded on
// demand (one request per directory at a time; an answer for a tree that was
// reset or refreshed meanwhile is dropped), and the fading of the highlights of
// keys that changed.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import { useLatestRef } from '../../app/useLatestRef';
import { clearChanged, emptyDir, initialTree, invalidate, loadFailed, loadStarted, mergePage, PAGE_SIZE, type TreeState } from './tree';

/** How long a changed key stays highlighted. */
export const HIGHLIGHT_MS = 2500;

export function useConfigTree(connId: string) {
  const [tree, setTree] = useState<TreeState>(() => initialTree());
  const treeRef = useLatestRef(tree);
  const inflightRef = useRef(new Set<string>());
  /** Bumped when the tree is reset or refreshed: answers of older requests are dropped. */
  const epochRef = useRef(0);

  /** Loads the next page of `dir` (its first page when `first`), unless it is loading, complete or failed. */
  const loadPage = useCallback(
    async (dir: string, first = false) => {
      if (inflightRef.current.has(dir)) return;
      const d = treeRef.current.dirs[dir];
      if (!first && d && (d.complete || d.error)) return;
      const mine = epochRef.current;
      inflightRef.current.add(dir);
      setTree((s) => loadStarted(s, dir));
      try {
        const cursor = first || !d?.loaded ? null : d.cursor;
        const page = await api.configTree(connId, dir, cursor, PAGE_SIZE);
        if (mine === epochRef.current) setTree((s) => mergePage(s, dir, page, cursor === null));
      } catch (e) {
        if (mine === epochRef.current) setTree((s) => loadFailed(s, dir, toAppError(e)));
      } finally {
        if (mine === epochRef.current) inflightRef.current.delete(dir);
      }
    },
    [connId, treeRef],
  );

  /** Clears the error of `dir` and loads its next page again. */
  const retry = (dir: string) => {
    setTree((s) => ({ ...s, dirs: { ...s.dirs, [dir]: { ...(s.dirs[dir] ?? emptyDir()), error: null } } }));
    void loadPage(dir);
  };

  const forget = () => {
    epochRef.current++;
    inflightRef.current.clear();
  };

  // Highlights fade.
  const hasChanged = Object.keys(tree.changed).length > 0;
  useEffect(() => {
    if (!hasChanged) return;
    const timer = setInterval(() => setTree((s) => clearChanged(s, Date.now() - HIGHLIGHT_MS)), 400);
    return () => clearInterval(timer);
  }, [hasChanged]);

  return {
    tree,
    setTree,
    loadPage,
    retry,
    /** An empty tree (another connection). */
    reset: () => {
      forget();
      setTree(initialTree());
    },
    /** Reloads the open directories from their first page. */
    refresh: () => {
      forget();
      setTree((s) => invalidate(s, s.root));
    },
  };
}
