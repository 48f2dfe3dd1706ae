import { describe, expect, it } from 'vitest';
import type { TreeEntry, TreePage } from '../../api/types';
import { evictFar, slotsToLoad, visibleRows } from './rowlist';
import { applyWatchEvent, evictSlot, initialTree, loadedChildren, loadedPageCount, mergePage, mergeSlot, toggle, type TreeState } from './tree';

const leaf = (key: string): TreeEntry => ({ name: key.slice(key.lastIndexOf('/') + 1), key, is_dir: false, meta: null });
const dir = (key: string): TreeEntry => ({ name: key.slice(1, -1), key, is_dir: true, meta: null });
const page = (entries: TreeEntry[], next: string | null): TreePage => ({ prefix: '/', entries, next_cursor: next, revision: 1, total: null });
const run = (from: number, n: number) => Array.from({ length: n }, (_, i) => leaf(`/k${String(from + i).padStart(3, '0')}`));
const rowKeys = (s: TreeState) => {
  const r = visibleRows(s);
  return r.slice(0, r.length).map((x) => (x.type === 'entry' ? x.entry.key : `${x.type}:${x.dir}${x.type === 'gap' ? `#${x.slot}` : ''}`));
};

/** "/" read as three pages of 3 keys (/k000 … /k008), the last one complete. */
function threePages(): TreeState {
  let s = mergePage(initialTree('/'), '/', page(run(0, 3), 'c3'), true);
  s = mergePage(s, '/', page(run(3, 3), 'c6'), false);
  return mergePage(s, '/', page(run(6, 3), null), false);
}

describe('evicted pages', () => {
  it('stand for their rows (positions stay) and are read again from their own cursor', () => {
    let s = evictSlot(threePages(), '/', 1);
    expect(rowKeys(s)).toEqual(['/k000', '/k001', '/k002', 'gap:/#1', 'gap:/#1', 'gap:/#1', '/k006', '/k007', '/k008']);
    expect(s.dirs['/'].pages[1]).toMatchObject({ cursor: 'c3', entries: null, count: 3, first: '/k003', last: '/k005' });
    expect(slotsToLoad(visibleRows(s), 0, 3)).toEqual([]);
    expect(slotsToLoad(visibleRows(s), 2, 5)).toEqual([{ dir: '/', slot: 1 }]);
    // Read again (twice a page asked): a key inserted meanwhile is kept, keys of the next page are not taken twice.
    s = mergeSlot(s, '/', 1, page([leaf('/k003'), leaf('/k0035'), leaf('/k004'), leaf('/k005'), ...run(6, 3)], null));
    expect(rowKeys(s)).toEqual(['/k000', '/k001', '/k002', '/k003', '/k0035', '/k004', '/k005', '/k006', '/k007', '/k008']);
  });

  it('the farthest go first; the window, the selection and expanded directories stay', () => {
    let s = threePages();
    expect(evictFar(s, 0, 3, 3)).toBe(s);
    s = evictFar(s, 0, 2, 1);
    expect(loadedPageCount(s)).toBe(1);
    expect(loadedChildren(s.dirs['/']).map((e) => e.key)).toEqual(['/k000', '/k001', '/k002']);
    // Selection on /k007: its page stays though outside the window.
    s = evictFar(threePages(), 0, 2, 1, '/k007');
    expect(loadedChildren(s.dirs['/']).map((e) => e.key)).toEqual(['/k000', '/k001', '/k002', '/k006', '/k007', '/k008']);
    // A page holding an open directory stays (its subtree hangs on it).
    let t = mergePage(initialTree('/'), '/', page([dir('/a/'), leaf('/b')], 'c2'), true);
    t = mergePage(t, '/', page(run(0, 2), null), false);
    t = toggle(t, '/a/', true);
    t = mergePage(t, '/a/', { ...page([leaf('/a/x')], null), prefix: '/a/' }, true);
    t = evictFar(t, 3, 5, 1);
    expect(t.dirs['/'].pages[0].entries).not.toBeNull();
    // Over the bound as long as the window and the open directory's page need it; the subtree's own page went.
    expect(loadedPageCount(t)).toBe(2);
    expect(rowKeys(t)).toEqual(['/a/', 'gap:/a/#0', '/b', '/k000', '/k001']);
  });

  it('watch events patch loaded pages and leave evicted ones to their next read', () => {
    const s = evictSlot(threePages(), '/', 1);
    const put = (key: string) => applyWatchEvent(s, { type: 'put', key, meta: { key, create_revision: 1, mod_revision: 2, version: 1, lease: 0 }, value: 'v' }, 1);
    expect(put('/k0015').dirs['/'].pages[0].entries?.map((e) => e.key)).toEqual(['/k000', '/k001', '/k0015', '/k002']);
    expect(put('/k0045')).toBe(s);
    expect(applyWatchEvent(s, { type: 'delete', key: '/k004', mod_revision: 3 }, 1)).toBe(s);
    const del = applyWatchEvent(s, { type: 'delete', key: '/k007', mod_revision: 3 }, 1);
    expect(rowKeys(del)).toEqual(['/k000', '/k001', '/k002', 'gap:/#1', 'gap:/#1', 'gap:/#1', '/k006', '/k008']);
  });
});
