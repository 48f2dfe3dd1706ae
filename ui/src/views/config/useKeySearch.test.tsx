// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it, vi } from 'vitest';
import { act, renderHook } from '../../util/renderHook';
import { useKeySearch } from './useKeySearch';

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
