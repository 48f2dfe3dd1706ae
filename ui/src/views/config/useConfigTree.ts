// The key tree of one etcd connection: the pages of each directory, loaded on
// demand (one request per directory at a time; an answer for a tree that was
// reset or refreshed meanwhile is dropped), at most MAX_LOADED_PAGES of them in
// memory (the farthest from the view evicted, read again from their cursor
// when scrolled back to), and the fading of the highlights of keys that changed.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import { useLatestRef } from '../../app/useLatestRef';
import { evictFar } from './rowlist';
import { clearChanged, emptyDir, initialTree, invalidate, loadFailed, loadStarted, mergePage, mergeSlot, PAGE_SIZE, slotFailed, slotStarted, type TreeState } from './tree';

/** Pages kept in memory beyond those in view (the selected key's and expanded dirs' pages are kept too). */
export const MAX_LOADED_PAGES = 6;

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

  /** Reads evicted page `slot` of `dir` again from its cursor (twice a page: room for keys inserted since). */
  const loadSlot = useCallback(
    async (dir: string, slot: number) => {
      const id = `${dir}\u0000${slot}`;
      const p = treeRef.current.dirs[dir]?.pages[slot];
      if (inflightRef.current.has(id) || !p || p.entries || p.error) return;
      const mine = epochRef.current;
      inflightRef.current.add(id);
      setTree((s) => slotStarted(s, dir, slot));
      try {
        const page = await api.configTree(connId, dir, p.cursor, p.cursor === null ? PAGE_SIZE : 2 * PAGE_SIZE);
        if (mine === epochRef.current) setTree((s) => mergeSlot(s, dir, slot, page));
      } catch (e) {
        if (mine === epochRef.current) setTree((s) => slotFailed(s, dir, slot, toAppError(e)));
      } finally {
        if (mine === epochRef.current) inflightRef.current.delete(id);
      }
    },
    [connId, treeRef],
  );

  /** The view shows rows [start, end): pages far from it are evicted (never `keep`'s). */
  const view = useCallback((start: number, end: number, keep: string | null) => {
    setTree((s) => evictFar(s, start, end, MAX_LOADED_PAGES, keep));
  }, []);

  /** Clears the error of `dir` and loads its next page again. */
  const retry = (dir: string) => {
    setTree((s) => ({ ...s, dirs: { ...s.dirs, [dir]: { ...(s.dirs[dir] ?? emptyDir()), error: null } } }));
    void loadPage(dir);
  };

  /** Clears the error of evicted page `slot` of `dir` (the tree's next look at its rows reads it again). */
  const retrySlot = (dir: string, slot: number) => setTree((s) => slotFailed(s, dir, slot, null));

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
    loadSlot,
    view,
    retry,
    retrySlot,
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
