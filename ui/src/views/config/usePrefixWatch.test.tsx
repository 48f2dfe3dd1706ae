// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it, vi } from 'vitest';
import type { WatchEvent } from '../../api/types';
import { flush, renderHook } from '../../util/renderHook';
import { usePrefixWatch, type KeyEvent } from './usePrefixWatch';

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

/** A backend whose config_watch hands the test a function that sends events. */
function watchBackend() {
  const watches: { prefix: string; send: (ev: WatchEvent) => void }[] = [];
  const unwatched: number[] = [];
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'config_watch') {
      const channel = a.onEvent as { id: number };
      let index = 0;
      const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;
      watches.push({ prefix: a.prefix as string, send: (ev) => internals.runCallback(channel.id, { message: ev, index: index++ }) });
      return watches.length;
    }
    if (cmd === 'config_unwatch') unwatched.push(a.watchId as number);
    return null;
  });
  return { watches, unwatched };
}

const put = (key: string): WatchEvent => ({ type: 'put', key, meta: { mod_revision: 2 } as never, value: 'v' });

it('passes changes on, settles once after a burst, and re-watches on a new prefix', async () => {
  const { watches, unwatched } = watchBackend();
  const seen: KeyEvent[] = [];
  let settled = 0;
  const { result, rerender } = renderHook(({ prefix }: { prefix: string }) => usePrefixWatch('c1', prefix, (ev) => seen.push(ev), () => settled++), { prefix: '/a/' });
  await flush();
  expect(result.current.watching).toBe(true);
  vi.useFakeTimers();
  watches[0].send(put('/a/x'));
  watches[0].send(put('/a/y'));
  await vi.advanceTimersByTimeAsync(599);
  expect(seen.map((e) => e.key)).toEqual(['/a/x', '/a/y']);
  expect(settled).toBe(0);
  await vi.advanceTimersByTimeAsync(1);
  expect(settled).toBe(1);
  vi.useRealTimers();

  rerender({ prefix: '/b/' });
  await flush();
  expect(unwatched).toEqual([1]);
  expect(watches[1].prefix).toBe('/b/');
  watches[0].send(put('/a/late')); // the old watch is silenced
  await flush();
  expect(seen.length).toBe(2);
});

it('shows reconnecting and resumed without stopping, and a gap reloads the view', async () => {
  const { watches } = watchBackend();
  const seen: KeyEvent[] = [];
  let reloads = 0;
  const { result } = renderHook(() => usePrefixWatch('c1', '/', (ev) => seen.push(ev), () => {}, () => reloads++), {});
  await flush();
  expect(result.current.state).toBe('live');
  watches[0].send({ type: 'reconnecting', attempt: 1, retry_in_ms: 250, last_revision: 7, reason: 'connection reset' });
  await flush();
  expect(result.current.state).toBe('reconnecting');
  expect(result.current.reconnect?.reason).toBe('connection reset');
  watches[0].send({ type: 'resumed', last_revision: 7 });
  watches[0].send(put('/x'));
  await flush();
  expect(result.current.state).toBe('live');
  expect(seen.map((e) => e.key)).toEqual(['/x']);

  watches[0].send({ type: 'reconnecting', attempt: 1, retry_in_ms: 250, last_revision: 8, reason: 'gone' });
  watches[0].send({ type: 'gap', last_revision: 8, compact_revision: null, revision: 12, changed: ['/y'], more_changed: false });
  await flush();
  expect(result.current.state).toBe('gap');
  expect(result.current.gap?.changed).toEqual(['/y']);
  expect(reloads).toBe(1);
  expect(result.current.problem).toBeNull();
  result.current.dismissGap();
  await flush();
  expect(result.current.state).toBe('live');
  expect(watches.length).toBe(1);
});

it('turns a refused watch into a problem, and restarts', async () => {
  const { watches } = watchBackend();
  const seen: KeyEvent[] = [];
  const { result } = renderHook(() => usePrefixWatch('c1', '/', (ev) => seen.push(ev), () => {}), {});
  await flush();
  watches[0].send({ type: 'error', message: 'permission denied' });
  await flush();
  expect(result.current.watching).toBe(false);
  expect(result.current.state).toBe('off');
  expect(result.current.problem).toEqual({ kind: 'error', message: 'permission denied', revision: null });
  expect(seen).toEqual([]);
  result.current.restart();
  await flush();
  expect(watches.length).toBe(2);
  expect(result.current.problem).toBeNull();
  expect(result.current.watching).toBe(true);
});
