// Pure model of the lazily loaded key tree: pages merge into directories,
// watch events patch them, and the visible rows are a flattening of the
// expanded directories. No I/O here (unit tested in tree.test.ts).
import type { AppError, KeyMeta, TreeEntry, TreePage, WatchEvent } from '../../api/types';

/** Tree root: etcd keys of Opsdeck users start with "/". */
export const ROOT = '/';
/** Page size of config_tree. */
export const PAGE_SIZE = 500;

/**
 * One page of a directory as it was read: its entries while loaded, and
 * while evicted (far from the view) only what stands in for them — how many
 * rows it held, its first and last key, and the cursor that reads it again.
 */
export interface PageSlot {
  /** the cursor it was asked with (null: the directory's first page) */
  cursor: string | null;
  /** the entries; null while evicted */
  entries: TreeEntry[] | null;
  /** rows it stands for (its entries when last loaded) */
  count: number;
  /** first and last key when last loaded ('' when it held none) */
  first: string;
  last: string;
  /** being read again */
  loading: boolean;
  error: AppError | null;
}

export interface DirState {
  /** the pages read so far, in key order */
  pages: PageSlot[];
  /** next_cursor of the last page; null when complete or not loaded yet */
  cursor: string | null;
  /** the first page arrived */
  loaded: boolean;
  /** no more pages */
  complete: boolean;
  /** its next page is being read */
  loading: boolean;
  error: AppError | null;
  /** keys under the directory (all depths) when its first page counted them; null: unknown */
  total: number | null;
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
  | { type: 'more'; dir: string; depth: number; loading: boolean; error: AppError | null }
  /** a row of an evicted page (read again when it comes into view) */
  | { type: 'gap'; dir: string; slot: number; depth: number; loading: boolean; error: AppError | null };

export function emptyDir(): DirState {
  return { pages: [], cursor: null, loaded: false, complete: false, loading: false, error: null, total: null };
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

function slotOf(cursor: string | null, entries: TreeEntry[]): PageSlot {
  return {
    cursor,
    entries,
    count: entries.length,
    first: entries[0]?.key ?? '',
    last: entries[entries.length - 1]?.key ?? '',
    loading: false,
    error: null,
  };
}

/** The loaded children of a directory, in key order (evicted pages left out). */
export function loadedChildren(d: DirState | undefined): TreeEntry[] {
  return d ? d.pages.flatMap((p) => p.entries ?? []) : [];
}

/** Pages of the whole tree whose entries are in memory. */
export function loadedPageCount(state: TreeState): number {
  let n = 0;
  for (const d of Object.values(state.dirs)) for (const p of d.pages) if (p.entries) n++;
  return n;
}

/** The last key any page of `d` holds ('' when none). */
function lastKey(d: DirState): string {
  for (let i = d.pages.length - 1; i >= 0; i--) if (d.pages[i].last) return d.pages[i].last;
  return '';
}

/** Index of the page whose key range holds `key`: the last page starting at or before it (0 when none does). */
function slotFor(d: DirState, key: string): number {
  let found = 0;
  for (let i = 0; i < d.pages.length; i++) {
    const f = d.pages[i].first;
    if (f && f <= key) found = i;
    else if (f && f > key) break;
  }
  return found;
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
  let pages: PageSlot[];
  if (first || old.pages.length === 0) {
    pages = [slotOf(null, page.entries.slice())];
  } else {
    const last = lastKey(old);
    const fresh = page.entries.filter((e) => e.key > last);
    pages = old.pages.concat([slotOf(old.cursor, fresh)]);
    // Entries that sort inside what we have (rare: inserted meanwhile) are placed by key.
    for (const e of page.entries) if (e.key <= last) pages = upsertInPages(pages, e);
  }
  return withDir(state, dir, {
    pages,
    cursor: page.next_cursor,
    loaded: true,
    complete: page.next_cursor === null,
    loading: false,
    error: null,
    total: first ? (page.total ?? null) : old.total,
  });
}

function withSlot(state: TreeState, dir: string, i: number, patch: Partial<PageSlot>): TreeState {
  const d = state.dirs[dir];
  if (!d || !d.pages[i]) return state;
  const pages = d.pages.slice();
  pages[i] = { ...pages[i], ...patch };
  return withDir(state, dir, { pages });
}

export function slotStarted(state: TreeState, dir: string, i: number): TreeState {
  return withSlot(state, dir, i, { loading: true, error: null });
}

export function slotFailed(state: TreeState, dir: string, i: number, error: AppError | null): TreeState {
  return withSlot(state, dir, i, { loading: false, error });
}

/**
 * An evicted page read again (from its cursor): its entries are the keys of
 * the answer that still sort between its neighbours (the next page starts
 * where it did; keys inserted meanwhile land in the page they belong to).
 */
export function mergeSlot(state: TreeState, dir: string, i: number, page: TreePage): TreeState {
  const d = state.dirs[dir];
  if (!d || !d.pages[i]) return state;
  const prev = i > 0 ? lastOfPagesBefore(d, i) : '';
  const next = firstOfPagesAfter(d, i);
  const entries = page.entries.filter((e) => e.key > prev && (next === '' || e.key < next));
  const pages = d.pages.slice();
  pages[i] = { ...slotOf(d.pages[i].cursor, entries), first: entries[0]?.key ?? d.pages[i].first, last: entries[entries.length - 1]?.key ?? d.pages[i].last };
  return withDir(state, dir, { pages });
}

function lastOfPagesBefore(d: DirState, i: number): string {
  for (let j = i - 1; j >= 0; j--) if (d.pages[j].last) return d.pages[j].last;
  return '';
}

function firstOfPagesAfter(d: DirState, i: number): string {
  for (let j = i + 1; j < d.pages.length; j++) if (d.pages[j].first) return d.pages[j].first;
  return '';
}

/** Drops the entries of page `i` of `dir` (kept: its row count, bounds and cursor). */
export function evictSlot(state: TreeState, dir: string, i: number): TreeState {
  const p = state.dirs[dir]?.pages[i];
  if (!p || !p.entries) return state;
  return withSlot(state, dir, i, { entries: null, count: p.entries.length, loading: false });
}

function upsertInPages(pages: PageSlot[], entry: TreeEntry): PageSlot[] {
  const d = { pages } as DirState;
  const i = slotFor(d, entry.key);
  const p = pages[i];
  if (!p?.entries) return pages;
  const entries = upsertChild(p.entries, entry);
  if (entries === p.entries) return pages;
  const next = pages.slice();
  next[i] = { ...p, entries, count: entries.length, first: entries[0].key, last: entries[entries.length - 1].key };
  return next;
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

/** Whether `d`'s loaded pages hold `key`; undefined when the page it would be in is evicted. */
function holds(d: DirState, key: string): boolean | undefined {
  const p = d.pages[slotFor(d, key)];
  if (!p) return false;
  if (!p.entries) return undefined;
  return p.entries[lowerBound(p.entries, key)]?.key === key;
}

/** `d` without the leaf `key` (unchanged when a loaded page does not hold it). */
function removeFromPages(d: DirState, key: string): DirState {
  const i = slotFor(d, key);
  const p = d.pages[i];
  if (!p?.entries) return d;
  const j = lowerBound(p.entries, key);
  if (p.entries[j]?.key !== key) return d;
  const entries = p.entries.slice();
  entries.splice(j, 1);
  const pages = d.pages.slice();
  pages[i] = { ...p, entries, count: entries.length, first: entries[0]?.key ?? '', last: entries[entries.length - 1]?.key ?? '' };
  return { ...d, pages };
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
      const last = lastKey(d);
      if (!d.complete && last && entry.key > last) continue;
      const exists = holds(d, entry.key);
      // In an evicted page: reading it again brings it.
      if (exists === undefined) continue;
      if (exists && entry.is_dir) continue;
      const pages = d.pages.length ? upsertInPages(d.pages, entry) : [slotOf(null, [entry])];
      dirs = { ...dirs, [dir]: { ...d, pages } };
      changed[entry.key] = now;
      touched = true;
    } else if (slash < 0) {
      const after = removeFromPages(d, key);
      if (after === d) continue;
      dirs = { ...dirs, [dir]: after };
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
    if (!d || !d.complete || d.pages.some((p) => p.entries === null || p.entries.length > 0)) break;
    const parent = parentOf(cur);
    const p = s.dirs[parent];
    if (!p || holds(p, cur) !== true) break;
    const dirs = { ...s.dirs, [parent]: removeFromPages(p, cur) };
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
