// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { Connection, TestOutcome } from '../../api/types';
import { act, flush, renderHook } from '../../util/renderHook';
import { toggle, useConnectionTests } from './useConnectionTests';

afterEach(() => clearMocks());

const conn = (id: string) => ({ id, name: id }) as Connection;
const outcome = (ok: boolean): TestOutcome => ({ ok, version: null, message: ok ? 'fine' : 'refused', error_code: ok ? null : 'unreachable', latency_ms: 3, tested_at: 'now' });

it('toggles ids on, off, or over', () => {
  expect([...toggle(new Set(['a']), 'a')]).toEqual([]);
  expect([...toggle(new Set(['a']), 'a', true)]).toEqual(['a']);
  expect([...toggle(new Set(), 'b', false)]).toEqual([]);
});

it('marks a test running, records its outcome, and opens the row of a failed one', async () => {
  let release: (o: TestOutcome) => void = () => {};
  mockIPC(() => new Promise((r) => (release = r)));
  const recorded: [string, TestOutcome][] = [];
  const { result } = renderHook(() => useConnectionTests((id, o) => recorded.push([id, o])), {});
  const done = result.current.runTest(conn('c1'));
  await flush();
  expect(result.current.running.has('c1')).toBe(true);
  release(outcome(false));
  await act(() => done);
  expect(recorded).toEqual([['c1', outcome(false)]]);
  expect(result.current.running.has('c1')).toBe(false);
  expect(result.current.expanded.has('c1')).toBe(true);
  act(() => result.current.toggleExpanded('c1'));
  expect(result.current.expanded.has('c1')).toBe(false);
});

it('records a rejected test as a failed outcome with its error code', async () => {
  mockIPC(() => {
    throw { code: 'keychain', message: 'locked' };
  });
  const recorded: [string, TestOutcome][] = [];
  const { result } = renderHook(() => useConnectionTests((id, o) => recorded.push([id, o])), {});
  await act(() => result.current.runTest(conn('c2')));
  expect(recorded[0][1]).toMatchObject({ ok: false, message: 'locked', latency_ms: 0 });
  expect(recorded[0][1].error_code).toBeTruthy();
  expect(result.current.running.size).toBe(0);
});
