// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { KeyMeta, KeyValue } from '../../../api/types';
import { flush, renderHook } from '../../../util/renderHook';
import { useKeyValue } from './useKeyValue';
import { useKeyWrite } from './useKeyWrite';

afterEach(() => clearMocks());

const meta = (rev: number) => ({ mod_revision: rev, create_revision: 1, version: rev, lease: 0 }) as KeyMeta;
const kv = (value: string, rev: number): KeyValue => ({ meta: meta(rev), value, format: 'json', size: value.length, lease_ttl: null, revision: rev });

function setup(backend: (cmd: string, args: Record<string, unknown>) => unknown) {
  const calls: [string, Record<string, unknown>][] = [];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push([cmd, a]);
    return backend(cmd, a);
  });
  const written: KeyMeta[] = [];
  let proposed = 0;
  const { result } = renderHook(() => {
    const value = useKeyValue('c1', '/k', false, 0, () => {});
    return { value, write: useKeyWrite('c1', '/k', value, { onWritten: (m) => written.push(m), onDeleted: () => {}, onProposed: () => proposed++ }) };
  }, {});
  return { calls, written, proposed: () => proposed, result };
}

it('saves with the loaded revision as the guard, then takes the written value as loaded', async () => {
  const { calls, written, result } = setup((cmd) => (cmd === 'config_get' ? kv('{"a":1}', 5) : { status: 'written', meta: meta(6), revision: 6 }));
  await flush();
  result.current.value.setDraft('{"a":2}');
  result.current.write.openSave(false);
  await flush();
  expect(result.current.write.dialog).toEqual({ type: 'save', plain: false });
  await result.current.write.write('save', result.current.value.loadedRev, '{"a":2}', 'json', false, 'why');
  await flush();
  expect(calls.at(-1)).toEqual(['config_put', { connectionId: 'c1', key: '/k', value: '{"a":2}', expectedModRevision: 5, format: 'json', allowInvalid: false, comment: 'why' }]);
  expect(written.map((m) => m.mod_revision)).toEqual([6]);
  expect(result.current.write.dialog).toBeNull();
  expect(result.current.value.loadedRev).toBe(6);
  expect(result.current.value.dirty).toBe(false);
});

it('keeps what the user typed while the save was on its way', async () => {
  let answer: (v: unknown) => void = () => {};
  const { result } = setup((cmd) => (cmd === 'config_get' ? kv('{"a":1}', 5) : new Promise((r) => (answer = r))));
  await flush();
  result.current.value.setDraft('{"a":2}');
  await flush();
  const saving = result.current.write.write('save', 5, '{"a":2}', 'json', false, 'why');
  await flush();
  result.current.value.setDraft('{"a":3}'); // typed before the answer came back
  await flush();
  answer({ status: 'written', meta: meta(6), revision: 6 });
  await saving;
  await flush();
  expect(result.current.value.loadedRev).toBe(6);
  expect(result.current.value.draft).toBe('{"a":3}');
  expect(result.current.value.dirty).toBe(true);
});

it('opens the conflict dialog with their value when the key moved on', async () => {
  const theirs = kv('{"a":9}', 7);
  const { result } = setup((cmd) => (cmd === 'config_get' ? kv('{"a":1}', 5) : { status: 'conflict', current: theirs }));
  await flush();
  await result.current.write.write('save', 5, '{"a":2}', 'json', false, 'c');
  await flush();
  expect(result.current.write.dialog).toEqual({ type: 'conflict', op: 'save', theirs, mine: '{"a":2}', format: 'json', allowInvalid: false, comment: 'c' });
  expect(result.current.value.loadedRev).toBe(5);
});

it('proposes the draft of a protected key instead of writing it, and starts the draft over', async () => {
  const { calls, proposed, result } = setup((cmd) => (cmd === 'config_get' ? kv('{"a":1}', 5) : { id: 'ch-1' }));
  await flush();
  result.current.value.setDraft('{"a":3}');
  await flush();
  await result.current.write.propose('please');
  await flush();
  expect(calls.at(-1)).toEqual(['config_change_propose', { connectionId: 'c1', key: '/k', value: '{"a":3}', comment: 'please' }]);
  expect(proposed()).toBe(1);
  expect(result.current.value.draft).toBe('{"a":1}');
});
