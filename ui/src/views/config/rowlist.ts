// The visible rows of the key tree without one object per row: the expanded
// directories flattened depth first into segments (a run of a loaded page's
// entries, an evicted page standing for its row count, a "more" row), with
// rows made on demand. A million-key directory is ~2,000 segments, not a
// million rows. Also which pages the view needs (to load, or read again) and
// which to evict when more pages are loaded than the bound. Pure (tested in
// rowlist.test.ts and tree.test.ts).
import type { AppError, TreeEntry } from '../../api/types';
import { evictSlot, loadedPageCount, type Row, type TreeState } from './tree';

type Segment =
  | { kind: 'entries'; dir: string; slot: number; list: TreeEntry[]; from: number; to: number; depth: number }
  | { kind: 'gap'; dir: string; slot: number; n: number; depth: number; loading: boolean; error: AppError | null }
  | { kind: 'more'; dir: string; depth: number; loading: boolean; error: AppError | null };

/** Rows by index, made on demand. */
export interface RowList {
  readonly length: number;
  at(i: number): Row | undefined;
  slice(start: number, end: number): Row[];
  /** index of the entry row of `key`; -1 when not shown (or in an evicted page) */
  indexOfKey(key: string): number;
}

const segLen = (s: Segment) => (s.kind === 'entries' ? s.to - s.from : s.kind === 'gap' ? s.n : 1);

class SegmentRows implements RowList {
  /** offsets[i]: the row index where segment i starts */
  private readonly offsets: number[];
  readonly length: number;

  constructor(readonly segments: Segment[]) {
    this.offsets = new Array<number>(segments.length);
    let n = 0;
    segments.forEach((s, i) => {
      this.offsets[i] = n;
      n += segLen(s);
    });
    this.length = n;
  }

  /** Index of the segment holding row `i`. */
  private segAt(i: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  at(i: number): Row | undefined {
    if (i < 0 || i >= this.length) return undefined;
    const k = this.segAt(i);
    const s = this.segments[k];
    const off = i - this.offsets[k];
    if (s.kind === 'entries') return { type: 'entry', entry: s.list[s.from + off], depth: s.depth };
    if (s.kind === 'gap') return { type: 'gap', dir: s.dir, slot: s.slot, depth: s.depth, loading: s.loading, error: s.error };
    return { type: 'more', dir: s.dir, depth: s.depth, loading: s.loading, error: s.error };
  }

  slice(start: number, end: number): Row[] {
    const out: Row[] = [];
    for (let i = Math.max(0, start); i < Math.min(this.length, end); i++) out.push(this.at(i)!);
    return out;
  }

  indexOfKey(key: string): number {
    for (let k = 0; k < this.segments.length; k++) {
      const s = this.segments[k];
      if (s.kind !== 'entries') continue;
      const first = s.list[s.from].key;
      const last = s.list[s.to - 1].key;
      if (key < first || key > last) continue;
      for (let j = s.from; j < s.to; j++) if (s.list[j].key === key) return this.offsets[k] + j - s.from;
    }
    return -1;
  }

  /** Row range [start, end) of every loaded page ("dir\u0000slot"), subtrees under it included. */
  loadedSpans(): Map<string, [number, number]> {
    const spans = new Map<string, [number, number]>();
    this.segments.forEach((s, k) => {
      if (s.kind !== 'entries') return;
      const id = `${s.dir}\u0000${s.slot}`;
      const start = this.offsets[k];
      const end = start + segLen(s);
      const had = spans.get(id);
      spans.set(id, had ? [had[0], end] : [start, end]);
    });
    return spans;
  }
}

/** An array of rows as a RowList (search results, tests). */
export function rowsOf(rows: Row[]): RowList {
  return {
    length: rows.length,
    at: (i) => rows[i],
    slice: (a, b) => rows.slice(a, b),
    indexOfKey: (key) => rows.findIndex((r) => r.type === 'entry' && r.entry.key === key),
  };
}

/** Visible rows: expanded dirs flattened depth first, an evicted page as its rows' placeholders, a "more" row per unfinished dir. */
export function visibleRows(state: TreeState): RowList {
  const segs: Segment[] = [];
  const walk = (dir: string, depth: number) => {
    const d = state.dirs[dir];
    if (!d) {
      segs.push({ kind: 'more', dir, depth, loading: false, error: null });
      return;
    }
    d.pages.forEach((p, slot) => {
      if (!p.entries) {
        if (p.count > 0) segs.push({ kind: 'gap', dir, slot, n: p.count, depth, loading: p.loading, error: p.error });
        return;
      }
      const list = p.entries;
      let from = 0;
      list.forEach((entry, j) => {
        if (entry.is_dir && state.expanded[entry.key]) {
          segs.push({ kind: 'entries', dir, slot, list, from, to: j + 1, depth });
          walk(entry.key, depth + 1);
          from = j + 1;
        }
      });
      if (from < list.length) segs.push({ kind: 'entries', dir, slot, list, from, to: list.length, depth });
    });
    if (!d.complete || d.error) segs.push({ kind: 'more', dir, depth, loading: d.loading, error: d.error });
  };
  walk(state.root, 0);
  return new SegmentRows(segs);
}

/** Dirs whose next page should load: their "more" row lies within rows [from, to). */
export function dirsToLoad(rows: RowList, from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = Math.max(0, from); i < Math.min(rows.length, to); i++) {
    const r = rows.at(i)!;
    if (r.type === 'more' && !r.loading && !r.error) out.push(r.dir);
  }
  return out;
}

/** Evicted pages with a row within [from, to): to be read again. */
export function slotsToLoad(rows: RowList, from: number, to: number): { dir: string; slot: number }[] {
  const out: { dir: string; slot: number }[] = [];
  const seen = new Set<string>();
  for (let i = Math.max(0, from); i < Math.min(rows.length, to); i++) {
    const r = rows.at(i)!;
    if (r.type !== 'gap' || r.loading || r.error) continue;
    const id = `${r.dir}\u0000${r.slot}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ dir: r.dir, slot: r.slot });
  }
  return out;
}

/**
 * What the tree asks when its window shows rows [start, end): the next page of
 * any directory whose "more" row is within the window plus `prefetch` rows
 * after it, every evicted page with a row within `prefetch` rows either side
 * (read again), and the span whose pages are kept (the rest may be evicted).
 */
export function windowRequests(rows: RowList, start: number, end: number, prefetch: number) {
  return {
    dirs: dirsToLoad(rows, start, end + prefetch),
    slots: slotsToLoad(rows, start - prefetch, end + prefetch),
    keep: [Math.max(0, start - prefetch), end + prefetch] as const,
  };
}

/**
 * Evicts the loaded pages farthest from rows [from, to) until at most `max`
 * are loaded. Kept whatever the bound: pages with a row in the window, the
 * page holding `keep` (the selection), and pages holding an expanded
 * directory (their subtree's rows hang on them).
 */
export function evictFar(state: TreeState, from: number, to: number, max: number, keep: string | null = null): TreeState {
  let loaded = loadedPageCount(state);
  if (loaded <= max) return state;
  const rows = visibleRows(state) as SegmentRows;
  const distance = ([a, b]: [number, number]) => (b <= from ? from - b + 1 : a >= to ? a - to + 1 : 0);
  const spans = rows.loadedSpans();
  const pinned = (entries: TreeEntry[]) => entries.some((e) => e.key === keep || (e.is_dir && state.expanded[e.key]));
  const candidates: { dir: string; slot: number; d: number }[] = [];
  for (const [id, span] of spans) {
    const [dir, s] = id.split('\u0000');
    const slot = Number(s);
    const d = distance(span);
    const entries = state.dirs[dir]?.pages[slot]?.entries ?? [];
    if (d === 0 || pinned(entries)) continue;
    candidates.push({ dir, slot, d });
  }
  // Loaded pages not shown at all (a collapsed dir's) go first.
  for (const [dir, dstate] of Object.entries(state.dirs)) {
    dstate.pages.forEach((p, slot) => {
      if (p.entries && !spans.has(`${dir}\u0000${slot}`) && !pinned(p.entries)) candidates.push({ dir, slot, d: Number.MAX_SAFE_INTEGER });
    });
  }
  candidates.sort((a, b) => b.d - a.d);
  let s = state;
  for (const c of candidates) {
    if (loaded <= max) break;
    s = evictSlot(s, c.dir, c.slot);
    loaded--;
  }
  return s;
}
