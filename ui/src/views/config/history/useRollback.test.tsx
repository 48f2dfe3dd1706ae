// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { HistoryEntry, KeyValue } from '../../../api/types';
import { act, renderHook } from '../../../util/renderHook';
import { useRollback } from './useRollback';

afterEach(() => clearMocks());

const entry = { mod_revision: 3, value: 'old', version: 1, format: 'plain' } as HistoryEntry;
const theirs = { meta: { mod_revision: 9 }, value: 'theirs' } as KeyValue;

it('rolls back guarded by the current revision; a newer one in etcd becomes a conflict, overwritable at its revision', async () => {
  const calls: Record<string, unknown>[] = [];
  mockIPC((_cmd, args) => {
    const a = args as Record<string, unknown>;
    calls.push(a);
    return a.expectedModRevision === 9 ? { status: 'written', meta: {}, revision: 10 } : { status: 'conflict', current: theirs };
  });
  let rolledBack = 0;
  const { result } = renderHook(() => useRollback('c1', '/k', () => rolledBack++), {});
  act(() => result.current.ask(entry));
  act(() => result.current.setComment(' back '));
  expect(result.current.rollback).toBe(entry);

  await act(() => result.current.run(entry, 5));
  expect(calls[0]).toEqual({ connectionId: 'c1', key: '/k', toRevision: 3, expectedModRevision: 5, comment: 'back' });
  expect(result.current.rollback).toBeNull();
  expect(result.current.conflict).toEqual({ theirs, entry });
  expect(rolledBack).toBe(0);

  await act(() => result.current.run(entry, 9));
  expect(rolledBack).toBe(1);
  expect(result.current.conflict).toBeNull();
  expect(result.current.comment).toBe('');
});
