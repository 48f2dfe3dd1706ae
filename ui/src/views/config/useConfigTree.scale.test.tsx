// @vitest-environment jsdom
// Issue 17 item 4: scrolling a directory of 1,000,000 keys keeps a bounded
// number of pages in memory, and scrolling back reads the evicted pages again
// from their cursors. The tree asks exactly what KeyTree asks for its window
// (windowRequests), against a simulated config_tree of a million keys.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import type { TreeEntry, TreePage } from '../../api/types';
import { flush, renderHook } from '../../util/renderHook';
import { PREFETCH } from './KeyTree';
import { moveTarget, navAction } from './keytree/nav';
import { visibleRows, windowRequests, type RowList } from './rowlist';
import { loadedPageCount, type Row } from './tree';
import { MAX_LOADED_PAGES, useConfigTree } from './useConfigTree';

afterEach(() => clearMocks());

const N = 1_000_000;
const key = (i: number) => `/k${String(i).padStart(7, '0')}`;
/** Rows the viewport shows (plus overscan), as KeyTree's window. */
const VIEW = 48;

/** config_tree over N leaf keys under "/": the cursor is the index to read from. */
function millionKeys() {
  const asked: (string | null)[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'config_tree') throw new Error(`unexpected ${cmd}`);
    const a = args as { prefix: string; cursor: string | null; limit: number };
    asked.push(a.cursor);
    const from = a.cursor === null ? 0 : Number(a.cursor);
    const to = Math.min(N, from + a.limit);
    const entries: TreeEntry[] = [];
    for (let i = from; i < to; i++) entries.push({ name: key(i).slice(1), key: key(i), is_dir: false, meta: null });
    const page: TreePage = { prefix: a.prefix, entries, next_cursor: to < N ? String(to) : null, revision: 1, total: a.cursor === null ? N : null };
    return Promise.resolve(page);
  });
  return asked;
}

function setup() {
  const asked = millionKeys();
  const { result } = renderHook(() => useConfigTree('c1'), {});
  /** The window moves to row `top`: ask what KeyTree asks, let the answers land, again until nothing more is asked. */
  const scrollTo = async (top: number, selected: string | null = null) => {
    for (let round = 0; round < 4; round++) {
      const rows = visibleRows(result.current.tree);
      const ask = windowRequests(rows, top, Math.min(rows.length, top + VIEW), PREFETCH);
      for (const dir of ask.dirs) void result.current.loadPage(dir);
      for (const { dir, slot } of ask.slots) void result.current.loadSlot(dir, slot);
      result.current.view(ask.keep[0], ask.keep[1], selected);
      await flush(2);
      if (ask.dirs.length === 0 && ask.slots.length === 0) return;
    }
  };
  const rows = (): RowList => visibleRows(result.current.tree);
  return { asked, result, scrollTo, rows };
}

const keyAt = (rows: RowList, i: number) => {
  const r = rows.at(i) as Row;
  return r.type === 'entry' ? r.entry.key : r.type;
};

describe('a directory of 1,000,000 keys', () => {
  it('keeps at most MAX_LOADED_PAGES pages while scrolling through all of it, then reads evicted pages again on the way back', async () => {
    const { asked, result, scrollTo, rows } = setup();
    let maxLoaded = 0;
    let top = 0;
    // Down to the end, a page's worth of rows a step (the window crosses every page).
    for (;;) {
      await scrollTo(top);
      maxLoaded = Math.max(maxLoaded, loadedPageCount(result.current.tree));
      expect(loadedPageCount(result.current.tree)).toBeLessThanOrEqual(MAX_LOADED_PAGES);
      const r = rows();
      expect(keyAt(r, top)).toBe(key(top));
      if (result.current.tree.dirs['/'].complete && top + VIEW >= r.length) break;
      top = Math.min(r.length - VIEW, top + 480);
    }
    expect(rows().length).toBe(N);
    expect(result.current.tree.dirs['/'].pages.length).toBe(N / 500);
    expect(result.current.tree.dirs['/'].total).toBe(N);
    expect(maxLoaded).toBe(MAX_LOADED_PAGES);
    // Every page read once on the way down, in order.
    expect(asked.length).toBe(N / 500);
    expect(asked[0]).toBeNull();
    expect(asked[1]).toBe('500');

    // Back to the top: the first page was evicted, it is read again (cursor null), the rows are the same keys.
    const before = asked.length;
    expect(rows().at(0)).toMatchObject({ type: 'gap', dir: '/', slot: 0 });
    await scrollTo(0);
    expect(asked.slice(before)).toEqual([null]);
    expect(keyAt(rows(), 0)).toBe(key(0));
    expect(keyAt(rows(), 499)).toBe(key(499));
    expect(rows().length).toBe(N);
    expect(loadedPageCount(result.current.tree)).toBeLessThanOrEqual(MAX_LOADED_PAGES);

    // The middle: the page holding row 500,000 is read again from its own cursor.
    const mid = asked.length;
    await scrollTo(500_000);
    expect(asked.slice(mid)).toContain('500000');
    expect(keyAt(rows(), 500_000)).toBe(key(500_000));
    expect(keyAt(rows(), 500_047)).toBe(key(500_047));
    expect(loadedPageCount(result.current.tree)).toBeLessThanOrEqual(MAX_LOADED_PAGES);
  }, 120_000);

  it('keeps the selected key and moves the selection with the keyboard across pages', async () => {
    const { result, scrollTo, rows } = setup();
    await scrollTo(0);
    let sel = key(0);
    // ArrowDown 1,200 times: the selection walks across three pages, the window follows it.
    for (let n = 0; n < 1200; n++) {
      const r = rows();
      const i = r.indexOfKey(sel);
      expect(i).toBe(n);
      const action = navAction('ArrowDown', r, i, 20, {});
      expect(action).toEqual({ type: 'move', to: i + 1 });
      const j = moveTarget(r, i, i + 1);
      if (j === null) throw new Error(`no row after ${sel}`);
      sel = keyAt(r, j);
      if (n % 40 === 0) await scrollTo(Math.max(0, j - VIEW + 1), sel);
    }
    expect(sel).toBe(key(1200));
    // Scrolled far away with the mouse: the selected key's page stays loaded, so the keyboard goes on from it.
    await scrollTo(0, sel);
    for (let top = 0; top < 6_000; top += 480) await scrollTo(top, sel);
    expect(loadedPageCount(result.current.tree)).toBeLessThanOrEqual(MAX_LOADED_PAGES);
    const r = rows();
    expect(r.indexOfKey(sel)).toBe(1200);
    expect(navAction('ArrowUp', r, 1200, 20, {})).toEqual({ type: 'move', to: 1199 });
    expect(keyAt(r, moveTarget(r, 1200, 1199)!)).toBe(key(1199));
  }, 60_000);
});
