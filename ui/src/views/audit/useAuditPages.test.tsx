// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it, vi } from 'vitest';
import { act, flush, renderHook } from '../../util/renderHook';
import { useAuditFilters } from './useAuditFilters';
import { AUDIT_PAGE_SIZE, useAuditPages } from './useAuditPages';

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

it('applies the search text 250 ms after the typing stops, trimmed; clear resets every filter', async () => {
  vi.useFakeTimers();
  const { result } = renderHook(() => useAuditFilters(), {});
  act(() => result.current.setText(' etc'));
  await act(async () => {
    await vi.advanceTimersByTimeAsync(100);
  });
  act(() => result.current.setText(' etcd '));
  await act(async () => {
    await vi.advanceTimersByTimeAsync(249);
  });
  expect(result.current.query).toBe('');
  await act(async () => {
    await vi.advanceTimersByTimeAsync(1);
  });
  expect(result.current.query).toBe('etcd');
  act(() => result.current.setResult('error'));
  expect(result.current.filtered).toBe(true);
  act(() => result.current.clear());
  expect([result.current.text, result.current.query, result.current.result, result.current.filtered]).toEqual(['', '', '', false]);
});

it('asks with the filters; the first page replaces the list and the next ones add to it', async () => {
  const asked: unknown[] = [];
  mockIPC((_cmd, args) => {
    const f = (args as { filter: { offset: number } }).filter;
    asked.push(f);
    return { entries: [{ id: f.offset + 1 }, { id: f.offset + 2 }], total: 4 };
  });
  const { result } = renderHook(() => useAuditPages({ platform: 'etcd', result: '', query: 'db' }), {});
  await act(() => result.current.load(0));
  await act(() => result.current.load(2));
  await flush();
  expect(asked).toEqual([
    { platform: 'etcd', result: null, text: 'db', limit: AUDIT_PAGE_SIZE, offset: 0 },
    { platform: 'etcd', result: null, text: 'db', limit: AUDIT_PAGE_SIZE, offset: 2 },
  ]);
  expect(result.current.entries?.map((e) => e.id)).toEqual([1, 2, 3, 4]);
  expect(result.current.total).toBe(4);
  await act(() => result.current.load(0));
  expect(result.current.entries?.map((e) => e.id)).toEqual([1, 2]);
});
