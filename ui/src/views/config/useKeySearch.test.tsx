// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it, vi } from 'vitest';
import { act, renderHook } from '../../util/renderHook';
import { partsAfter } from './keytree/rows';
import { insertByKey, useKeySearch } from './useKeySearch';

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

it('searches the last text typed, 300 ms after the typing stops; no text, no matches', async () => {
  const asked: unknown[] = [];
  mockIPC((_cmd, args) => {
    asked.push(args);
    const a = args as { text: string };
    return [{ name: a.text, key: `/p/${a.text}`, is_dir: false, meta: null }];
  });
  vi.useFakeTimers();
  const { result } = renderHook(() => useKeySearch('c1', '/p/'), {});
  act(() => result.current.setSearch('d'));
  await vi.advanceTimersByTimeAsync(100);
  act(() => result.current.setSearch(' db '));
  await vi.advanceTimersByTimeAsync(299);
  expect(asked).toEqual([]);
  await act(async () => {
    await vi.advanceTimersByTimeAsync(1);
  });
  expect(asked).toEqual([{ connectionId: 'c1', prefix: '/p/', text: 'db', limit: 500 }]);
  expect(result.current.results?.map((r) => r.key)).toEqual(['/p/db']);
  act(() => result.current.drop('/p/db'));
  await vi.advanceTimersByTimeAsync(0);
  expect(result.current.results).toEqual([]);
  act(() => result.current.setSearch(''));
  await vi.advanceTimersByTimeAsync(0);
  expect(result.current.results).toBeNull();
});

it('in values: streams hits as the backend finds them, and stops the scan on a new text', async () => {
  type Send = (ev: unknown) => void;
  const scans: { text: string; mode: string; send: Send }[] = [];
  const stopped: number[] = [];
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'config_value_search') {
      const channel = a.onEvent as { id: number };
      let index = 0;
      const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;
      scans.push({ text: a.text as string, mode: a.mode as string, send: (ev) => internals.runCallback(channel.id, { message: ev, index: index++ }) });
      return scans.length;
    }
    if (cmd === 'config_value_search_stop') stopped.push(a.searchId as number);
    return null;
  });
  vi.useFakeTimers();
  const { result } = renderHook(() => useKeySearch('c1', '/p/'), {});
  act(() => result.current.setInValues(true));
  act(() => result.current.setSearch('secret'));
  await act(async () => {
    await vi.advanceTimersByTimeAsync(300);
  });
  expect(scans.map((s) => s.text)).toEqual(['secret']);
  expect(result.current.searching).toBe(true);
  const hit = { key: '/p/db', meta: { key: '/p/db', create_revision: 1, mod_revision: 2, version: 1, lease: 0 }, found_in: 'value', before: '"pw": "', matched: 'secret', after: '"', parts: [], score: null };
  await act(async () => {
    scans[0].send({ type: 'hit', hit });
    scans[0].send({ type: 'progress', scanned: 200 });
    await vi.advanceTimersByTimeAsync(0);
  });
  expect(result.current.results?.map((r) => r.key)).toEqual(['/p/db']);
  expect(result.current.hits['/p/db'].matched).toBe('secret');
  expect(result.current.scanned).toBe(200);
  expect(result.current.searching).toBe(true);
  await act(async () => {
    scans[0].send({ type: 'done', scanned: 450, hits: 1, truncated: false, revision: 9 });
    await vi.advanceTimersByTimeAsync(0);
  });
  expect(result.current.searching).toBe(false);
  expect(result.current.scanned).toBe(450);

  act(() => result.current.setSearch('other'));
  await act(async () => {
    await vi.advanceTimersByTimeAsync(300);
  });
  expect(stopped).toEqual([1]);
  expect(scans.map((s) => s.text)).toEqual(['secret', 'other']);
  expect(result.current.results).toEqual([]);

  // Fuzzy: the same streamed scan, asked in fuzzy mode, even with values off.
  act(() => result.current.setInValues(false));
  act(() => result.current.setFuzzy(true));
  await act(async () => {
    await vi.advanceTimersByTimeAsync(300);
  });
  expect(scans.map((s) => s.mode)).toEqual(['substring', 'substring', 'fuzzy']);
  expect(result.current.streamed).toBe(true);
});

it('a key hit shows the parts below the shown name, matched runs kept', () => {
  const parts = [
    { text: '/p/', hit: false },
    { text: 'zz/', hit: false },
    { text: 'db', hit: true },
    { text: '/', hit: false },
    { text: 'pass', hit: true },
    { text: 'word', hit: false },
  ];
  expect(partsAfter(parts, 4)).toEqual([
    { text: 'z/', hit: false },
    { text: 'db', hit: true },
    { text: '/', hit: false },
    { text: 'pass', hit: true },
    { text: 'word', hit: false },
  ]);
  expect(partsAfter(parts, 7).map((p) => p.text)).toEqual(['b', '/', 'pass', 'word']);
  expect(partsAfter(parts, -1)).toEqual(parts);
});

it('hits found out of key order (scanners of a big prefix) are listed in key order, once each', () => {
  const e = (key: string) => ({ name: key, key, is_dir: false, meta: null });
  let list = insertByKey([], e('/s/k5'));
  list = insertByKey(list, e('/s/k1'));
  list = insertByKey(list, e('/s/k9'));
  list = insertByKey(list, e('/s/k3'));
  list = insertByKey(list, e('/s/k3'));
  expect(list.map((x) => x.key)).toEqual(['/s/k1', '/s/k3', '/s/k5', '/s/k9']);
});
