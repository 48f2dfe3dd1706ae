// Pure model of the lazily loaded key tree: pages merge into directories,
// watch events patch them, and the visible rows are a flattening of the
// expanded directories. No I/O here (unit tested in tree.test.ts).
import type { AppError, KeyMeta, TreeEntry, TreePage, WatchEvent } from '../../api/types';

/** Tree root: etcd keys of Opsdeck users start with "/". */
export const ROOT = '/';
/** Page size of config_tree. */
export const PAGE_SIZE = 500;

export interface DirState {
  /** loaded children, in key order */
  children: TreeEntry[];
  /** next_cursor of the last page; null when complete or not loaded yet */
  cursor: string | null;
  /** the first page arrived */
  loaded: boolean;
  /** no more pages */
  complete: boolean;
  loading: boolean;
  error: AppError | null;
}

export interface TreeState {
  root: string;
  dirs: Record<string, DirState>;
  expanded: Record<string, true>;
  /** key → time it changed (watch highlight); cleared by clearChanged */
  changed: Record<string, number>;
}

export type Row =
  | { type: 'entry'; entry: TreeEntry; depth: number }
  /** a page still to load (or loading / failed) at the end of a dir */
  | { type: 'more'; dir: string; depth: number; loading: boolean; error: AppError | null };

export function emptyDir(): DirState {
  return { children: [], cursor: null, loaded: false, complete: false, loading: false, error: null };
}

export function initialTree(root = ROOT): TreeState {
  return { root, dirs: {}, expanded: { [root]: true }, changed: {} };
}

function dirOf(state: TreeState, dir: string): DirState {
  return state.dirs[dir] ?? emptyDir();
}

function withDir(state: TreeState, dir: string, patch: Partial<DirState>): TreeState {
  return { ...state, dirs: { ...state.dirs, [dir]: { ...dirOf(state, dir), ...patch } } };
}

/** Key order of etcd (byte order; UTF-16 order equals it for the BMP, good enough for display). */
export const cmpKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first child whose key is >= key. */
function lowerBound(children: TreeEntry[], key: string): number {
  let lo = 0;
  let hi = children.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (children[mid].key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function loadStarted(state: TreeState, dir: string): TreeState {
  return withDir(state, dir, { loading: true, error: null });
}

export function loadFailed(state: TreeState, dir: string, error: AppError): TreeState {
  return withDir(state, dir, { loading: false, error });
}

/**
 * Merges a page of `dir`. `first` = the page was asked without a cursor (a
 * reload: replaces what was there). Duplicates (a key a watch event already
 * inserted) are dropped; the result stays in key order.
 */
export function mergePage(state: TreeState, dir: string, page: TreePage, first: boolean): TreeState {
  const old = dirOf(state, dir);
  let children: TreeEntry[];
  if (first || old.children.length === 0) {
    children = page.entries.slice();
  } else {
    const last = old.children[old.children.length - 1].key;
    const fresh = page.entries.filter((e) => e.key > last);
    // Entries that sort inside what we have (rare: inserted meanwhile) are placed by key.
    const inside = page.entries.filter((e) => e.key <= last);
    children = old.children.concat(fresh);
    for (const e of inside) children = upsertChild(children, e);
  }
  return withDir(state, dir, {
    children,
    cursor: page.next_cursor,
    loaded: true,
    complete: page.next_cursor === null,
    loading: false,
    error: null,
  });
}

function upsertChild(children: TreeEntry[], entry: TreeEntry): TreeEntry[] {
  const i = lowerBound(children, entry.key);
  if (children[i]?.key === entry.key) {
    if (children[i].is_dir) return children; // a dir stays a dir
    const next = children.slice();
    next[i] = entry;
    return next;
  }
  const next = children.slice();
  next.splice(i, 0, entry);
  return next;
}

export function toggle(state: TreeState, dir: string, open?: boolean): TreeState {
  const isOpen = !!state.expanded[dir];
  const want = open ?? !isOpen;
  if (want === isOpen) return state;
  const expanded = { ...state.expanded };
  if (want) expanded[dir] = true;
  else delete expanded[dir];
  return { ...state, expanded };
}

/** Forgets the loaded children of `dir` (and below) so it reloads; keeps expansion. */
export function invalidate(state: TreeState, dir: string): TreeState {
  const dirs: Record<string, DirState> = {};
  for (const [k, v] of Object.entries(state.dirs)) if (!k.startsWith(dir)) dirs[k] = v;
  return { ...state, dirs };
}

/** Directory that directly holds `key` ("/a/b/c" → "/a/b/", "/a/b/" → "/a/"). */
export function parentOf(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? '' : trimmed.slice(0, i + 1);
}

/** Visible rows: expanded dirs flattened depth first, plus a "more" row per unfinished dir. */
export function visibleRows(state: TreeState): Row[] {
  const out: Row[] = [];
  const walk = (dir: string, depth: number) => {
    const d = state.dirs[dir];
    if (!d) {
      out.push({ type: 'more', dir, depth, loading: false, error: null });
      return;
    }
    for (const entry of d.children) {
      out.push({ type: 'entry', entry, depth });
      if (entry.is_dir && state.expanded[entry.key]) walk(entry.key, depth + 1);
    }
    if (!d.complete || d.error) out.push({ type: 'more', dir, depth, loading: d.loading, error: d.error });
  };
  walk(state.root, 0);
  return out;
}

/** Dirs whose next page should load: their "more" row lies within rows [from, to). */
export function dirsToLoad(rows: Row[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = Math.max(0, from); i < Math.min(rows.length, to); i++) {
    const r = rows[i];
    if (r.type === 'more' && !r.loading && !r.error) out.push(r.dir);
  }
  return out;
}

// ---- watch ----------------------------------------------------------------

export interface WatchProblem {
  kind: 'error';
  message: string;
  revision: number | null;
}

/** Applies a put/delete of `key` to every loaded dir that shows it (or the dir holding it). */
export function applyWatchEvent(state: TreeState, ev: WatchEvent, now: number): TreeState {
  if (ev.type !== 'put' && ev.type !== 'delete') return state;
  const key = ev.key;
  let dirs = state.dirs;
  const changed = { ...state.changed };
  let touched = false;
  for (const [dir, d] of Object.entries(state.dirs)) {
    if (!d.loaded || !key.startsWith(dir) || key === dir) continue;
    const rel = key.slice(dir.length);
    const slash = rel.indexOf('/');
    if (ev.type === 'put') {
      const entry: TreeEntry =
        slash < 0
          ? { name: rel, key, is_dir: false, meta: ev.meta }
          : { name: rel.slice(0, slash), key: dir + rel.slice(0, slash + 1), is_dir: true, meta: null };
      // Past the loaded part of an unfinished dir: a later page brings it.
      const last = d.children[d.children.length - 1];
      if (!d.complete && last && entry.key > last.key) continue;
      const exists = d.children[lowerBound(d.children, entry.key)]?.key === entry.key;
      if (exists && entry.is_dir) continue;
      dirs = { ...dirs, [dir]: { ...d, children: upsertChild(d.children, entry) } };
      changed[entry.key] = now;
      touched = true;
    } else if (slash < 0) {
      const i = lowerBound(d.children, key);
      if (d.children[i]?.key !== key) continue;
      const children = d.children.slice();
      children.splice(i, 1);
      dirs = { ...dirs, [dir]: { ...d, children } };
      delete changed[key];
      touched = true;
    }
  }
  if (!touched) return state;
  let next: TreeState = { ...state, dirs, changed };
  if (ev.type === 'delete') next = pruneEmptyDirs(next, parentOf(key));
  return next;
}

/** A fully loaded dir left without children disappears from its parent (etcd has no empty dirs). */
function pruneEmptyDirs(state: TreeState, dir: string): TreeState {
  let s = state;
  let cur = dir;
  while (cur && cur !== s.root && cur.startsWith(s.root)) {
    const d = s.dirs[cur];
    if (!d || !d.complete || d.children.length > 0) break;
    const parent = parentOf(cur);
    const p = s.dirs[parent];
    if (!p) break;
    const i = lowerBound(p.children, cur);
    if (p.children[i]?.key !== cur) break;
    const children = p.children.slice();
    children.splice(i, 1);
    const dirs = { ...s.dirs, [parent]: { ...p, children } };
    delete dirs[cur];
    const expanded = { ...s.expanded };
    delete expanded[cur];
    s = { ...s, dirs, expanded };
    cur = parent;
  }
  return s;
}

/** Drops highlights older than `before`. */
export function clearChanged(state: TreeState, before: number): TreeState {
  const entries = Object.entries(state.changed);
  const keep = entries.filter(([, at]) => at >= before);
  if (keep.length === entries.length) return state;
  return { ...state, changed: Object.fromEntries(keep) };
}

/** Updates the meta of a leaf after our own write (before the watch event arrives). */
export function setMeta(state: TreeState, meta: KeyMeta): TreeState {
  return applyWatchEvent(state, { type: 'put', key: meta.key, meta, value: null }, 0);
}

// ---- virtual list -----------------------------------------------------------

/** Largest power of two used by the spacer classes (.vs-0 … .vs-20). */
export const SPACER_BITS = 21;

/**
 * Spacer of n rows as a list of power-of-two exponents: rendered as one
 * element per bit with classes .vs-<k> (height 2^k rows). Keeps the strict CSP
 * (no style attributes) while the list is virtualised.
 */
export function spacerBits(n: number): number[] {
  const out: number[] = [];
  let rest = Math.max(0, Math.floor(n));
  for (let k = SPACER_BITS - 1; k >= 0 && rest > 0; k--) {
    const size = 2 ** k;
    while (rest >= size) {
      out.push(k);
      rest -= size;
    }
  }
  return out;
}

/** Rows [start, end) to render for a viewport. */
export function windowOf(scrollTop: number, viewport: number, rowH: number, total: number, overscan = 10) {
  const first = Math.floor(scrollTop / rowH);
  const count = Math.ceil(viewport / rowH) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(total, first + count + overscan);
  return { start, end };
}
