import { describe, expect, it } from 'vitest';
import type { KeyMeta, TreeEntry, TreePage } from '../../api/types';
import {
  applyWatchEvent,
  clearChanged,
  initialTree,
  loadFailed,
  loadStarted,
  loadedChildren,
  mergePage,
  parentOf,
  spacerBits,
  toggle,
  windowOf,
  type TreeState,
} from './tree';
import { dirsToLoad, visibleRows } from './rowlist';

const meta = (key: string, rev = 10, lease = 0): KeyMeta => ({ key, create_revision: 1, mod_revision: rev, version: 1, lease });
const leaf = (key: string, rev = 10): TreeEntry => ({ name: key.slice(key.lastIndexOf('/') + 1), key, is_dir: false, meta: meta(key, rev) });
const dir = (key: string): TreeEntry => ({ name: key.slice(0, -1).slice(key.slice(0, -1).lastIndexOf('/') + 1), key, is_dir: true, meta: null });
const page = (prefix: string, entries: TreeEntry[], next: string | null): TreePage => ({ prefix, entries, next_cursor: next, revision: 100, total: null });
const keysOf = (s: TreeState, d: string) => loadedChildren(s.dirs[d]).map((e) => e.key);
const rowKeys = (s: TreeState) => {
  const rows = visibleRows(s);
  return rows.slice(0, rows.length).map((r) => (r.type === 'entry' ? r.entry.key : `${r.type}:${r.dir}`));
};

function loaded(): TreeState {
  let s = initialTree('/');
  s = mergePage(s, '/', page('/', [dir('/app/'), dir('/bench/')], null), true);
  s = toggle(s, '/app/', true);
  s = mergePage(s, '/app/', page('/app/', [dir('/app/dev/'), leaf('/app/readme')], null), true);
  s = toggle(s, '/app/dev/', true);
  s = mergePage(s, '/app/dev/', page('/app/dev/', [leaf('/app/dev/a'), leaf('/app/dev/c')], null), true);
  return s;
}

describe('tree paging', () => {
  it('an unloaded root shows a single "more" row (which triggers the first load)', () => {
    const s = initialTree('/');
    expect(rowKeys(s)).toEqual(['more:/']);
    expect(dirsToLoad(visibleRows(s), 0, 10)).toEqual(['/']);
  });

  it('appends pages in order and keeps a "more" row until the last page', () => {
    let s = loadStarted(initialTree('/'), '/');
    expect(visibleRows(s).at(0)).toMatchObject({ type: 'more', loading: true });
    s = mergePage(s, '/', page('/', [leaf('/a'), leaf('/b')], 'c1'), true);
    expect(rowKeys(s)).toEqual(['/a', '/b', 'more:/']);
    expect(s.dirs['/'].cursor).toBe('c1');
    s = mergePage(s, '/', page('/', [leaf('/c'), leaf('/d')], null), false);
    expect(rowKeys(s)).toEqual(['/a', '/b', '/c', '/d']);
    expect(s.dirs['/'].complete).toBe(true);
  });

  it('drops duplicates a watch event inserted before the page arrived, keeping key order', () => {
    let s = mergePage(initialTree('/'), '/', page('/', [leaf('/a'), leaf('/m')], 'c1'), true);
    // A put of /b (inside the loaded range) is inserted right away.
    s = applyWatchEvent(s, { type: 'put', key: '/b', meta: meta('/b'), value: 'x' }, 1);
    // A put of /z (past the loaded part) waits for its page.
    s = applyWatchEvent(s, { type: 'put', key: '/z', meta: meta('/z'), value: 'x' }, 1);
    expect(keysOf(s, '/')).toEqual(['/a', '/b', '/m']);
    s = mergePage(s, '/', page('/', [leaf('/n'), leaf('/z')], null), false);
    expect(keysOf(s, '/')).toEqual(['/a', '/b', '/m', '/n', '/z']);
  });

  it('a first page (reload) replaces the children', () => {
    let s = mergePage(initialTree('/'), '/', page('/', [leaf('/a')], null), true);
    s = mergePage(s, '/', page('/', [leaf('/b')], null), true);
    expect(keysOf(s, '/')).toEqual(['/b']);
  });

  it('flattens expanded dirs depth first with depths', () => {
    const rows = visibleRows(loaded());
    expect(rows.slice(0, rows.length).map((r) => (r.type === 'entry' ? `${r.depth}:${r.entry.key}` : 'more'))).toEqual([
      '0:/app/',
      '1:/app/dev/',
      '2:/app/dev/a',
      '2:/app/dev/c',
      '1:/app/readme',
      '0:/bench/',
    ]);
    expect(rowKeys(toggle(loaded(), '/app/', false))).toEqual(['/app/', '/bench/']);
  });

  it('an expanded dir without data shows a "more" row; errors stop auto-loading', () => {
    let s = toggle(loaded(), '/bench/', true);
    const rows = visibleRows(s);
    expect(rowKeys(s).at(-1)).toBe('more:/bench/');
    expect(dirsToLoad(rows, 0, rows.length)).toEqual(['/bench/']);
    s = loadFailed(s, '/bench/', { code: 'forbidden', message: 'etcd RBAC: permission denied' });
    const after = visibleRows(s);
    expect(after.at(after.length - 1)).toMatchObject({ type: 'more', error: { code: 'forbidden' } });
    expect(dirsToLoad(after, 0, after.length)).toEqual([]);
  });

  it('only "more" rows within the window load', () => {
    let s = initialTree('/');
    s = mergePage(s, '/', page('/', Array.from({ length: 500 }, (_, i) => leaf(`/k${String(i).padStart(4, '0')}`)), 'next'), true);
    const rows = visibleRows(s);
    expect(rows).toHaveLength(501);
    expect(dirsToLoad(rows, 0, 100)).toEqual([]);
    expect(dirsToLoad(rows, 400, 520)).toEqual(['/']);
  });

  it('parentOf', () => {
    expect(parentOf('/app/dev/db')).toBe('/app/dev/');
    expect(parentOf('/app/dev/')).toBe('/app/');
    expect(parentOf('/app/')).toBe('/');
  });
});

describe('watch event reducer', () => {
  it('a put of a new leaf inserts it in key order and highlights it', () => {
    const s = applyWatchEvent(loaded(), { type: 'put', key: '/app/dev/b', meta: meta('/app/dev/b', 11), value: 'v' }, 1000);
    expect(keysOf(s, '/app/dev/')).toEqual(['/app/dev/a', '/app/dev/b', '/app/dev/c']);
    expect(s.changed['/app/dev/b']).toBe(1000);
  });

  it('a put of an existing leaf updates its meta and highlights it', () => {
    const s = applyWatchEvent(loaded(), { type: 'put', key: '/app/dev/a', meta: meta('/app/dev/a', 42, 7), value: 'v' }, 5);
    expect(loadedChildren(s.dirs['/app/dev/'])[0].meta).toMatchObject({ mod_revision: 42, lease: 7 });
    expect(s.changed['/app/dev/a']).toBe(5);
  });

  it('a put deeper than the loaded level adds the intermediate dir once', () => {
    let s = applyWatchEvent(loaded(), { type: 'put', key: '/app/prod/db', meta: meta('/app/prod/db'), value: 'v' }, 1);
    expect(keysOf(s, '/app/')).toEqual(['/app/dev/', '/app/prod/', '/app/readme']);
    expect(loadedChildren(s.dirs['/app/'])[1].is_dir).toBe(true);
    const again = applyWatchEvent(s, { type: 'put', key: '/app/prod/x', meta: meta('/app/prod/x'), value: 'v' }, 2);
    expect(keysOf(again, '/app/')).toEqual(keysOf(s, '/app/'));
    s = applyWatchEvent(s, { type: 'put', key: '/app/dev/z', meta: meta('/app/dev/z'), value: 'v' }, 3);
    expect(keysOf(s, '/app/dev/')).toContain('/app/dev/z');
  });

  it('a delete removes the leaf and prunes dirs left empty', () => {
    let s = applyWatchEvent(loaded(), { type: 'delete', key: '/app/dev/a', mod_revision: 50 }, 1);
    expect(keysOf(s, '/app/dev/')).toEqual(['/app/dev/c']);
    s = applyWatchEvent(s, { type: 'delete', key: '/app/dev/c', mod_revision: 51 }, 1);
    expect(keysOf(s, '/app/')).toEqual(['/app/readme']);
    expect(s.dirs['/app/dev/']).toBeUndefined();
    expect(s.expanded['/app/dev/']).toBeUndefined();
  });

  it('a delete of an unknown key, error and gap events leave the state alone', () => {
    const s = loaded();
    expect(applyWatchEvent(s, { type: 'delete', key: '/nope', mod_revision: 1 }, 1)).toBe(s);
    expect(applyWatchEvent(s, { type: 'error', message: 'x' }, 1)).toBe(s);
    expect(applyWatchEvent(s, { type: 'gap', last_revision: 3, compact_revision: 9, revision: 10, changed: [], more_changed: false }, 1)).toBe(s);
  });

  it('highlights fade', () => {
    let s = applyWatchEvent(loaded(), { type: 'put', key: '/app/dev/a', meta: meta('/app/dev/a', 12), value: 'v' }, 1000);
    expect(clearChanged(s, 500)).toBe(s);
    s = clearChanged(s, 1001);
    expect(s.changed).toEqual({});
  });
});

describe('virtual list helpers', () => {
  it('spacerBits decomposes a row count into power-of-two blocks', () => {
    expect(spacerBits(0)).toEqual([]);
    expect(spacerBits(1)).toEqual([0]);
    expect(spacerBits(100_000).reduce((a, k) => a + 2 ** k, 0)).toBe(100_000);
    expect(spacerBits(100_000).length).toBeLessThanOrEqual(17);
  });

  it('windowOf renders the viewport plus overscan', () => {
    expect(windowOf(0, 260, 26, 100_000, 10)).toEqual({ start: 0, end: 21 });
    expect(windowOf(26 * 50_000, 260, 26, 100_000, 10)).toEqual({ start: 49_990, end: 50_021 });
    expect(windowOf(26 * 99_995, 260, 26, 100_000, 10).end).toBe(100_000);
  });
});
