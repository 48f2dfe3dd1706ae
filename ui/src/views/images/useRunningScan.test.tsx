// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import { act, flush, renderHook } from '../../util/renderHook';
import { useRunningScan } from './useRunningScan';
import { useScanHistory } from './useScanHistory';

afterEach(() => clearMocks());

const internals = () => (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;

it('shows the progress of its task, then reports the outcome; leaving the view cancels a running scan', async () => {
  const calls: string[] = [];
  let finish: (v: unknown) => void = () => {};
  let send: (p: unknown) => void = () => {};
  mockIPC((cmd, args) => {
    calls.push(cmd);
    if (cmd !== 'images_scan_running') return null;
    const ch = (args as { onProgress: { id: number } }).onProgress;
    let index = 0;
    send = (p) => internals().runCallback(ch.id, { message: p, index: index++ });
    return new Promise((r) => (finish = r));
  });
  const events: string[] = [];
  const { result, unmount } = renderHook(() => useRunningScan('c1', { onScanned: () => events.push('scanned'), onEnded: () => events.push('ended') }), {});
  const done = result.current.start();
  await flush();
  expect(result.current.running?.progress).toBeNull();
  send({ index: 0, total: 2, image: 'nginx' });
  await flush();
  expect(result.current.running?.progress).toEqual({ index: 0, total: 2, image: 'nginx' });
  finish([{ scan: { decision: 'BLOCK' }, error: null }, { scan: null, error: 'x' }]);
  await act(() => done);
  expect(events).toEqual(['scanned', 'ended']);
  expect(result.current.running).toBeNull();
  await flush();
  const cancelsAfterEnd = calls.filter((c) => c === 'images_cancel').length; // the ended task's cancel is harmless

  // A scan still running when the view goes is cancelled.
  void result.current.start();
  await flush();
  unmount();
  await flush();
  expect(calls.filter((c) => c === 'images_cancel')).toHaveLength(cancelsAfterEnd + 1);
});

it('keeps the scans of this connection and those of none', async () => {
  mockIPC(() => [
    { id: 1, connection_id: 'c1' },
    { id: 2, connection_id: 'c2' },
    { id: 3, connection_id: null },
  ]);
  const { result } = renderHook(() => useScanHistory('c1'), {});
  await flush();
  expect(result.current.history?.map((s) => s.id)).toEqual([1, 3]);
});
