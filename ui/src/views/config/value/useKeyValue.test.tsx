// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { KeyValue } from '../../../api/types';
import { flush, renderHook } from '../../../util/renderHook';
import { formatForName, useKeyValue } from './useKeyValue';

afterEach(() => clearMocks());

const kv = (value: string, rev: number): KeyValue => ({ meta: { mod_revision: rev } as KeyValue['meta'], value, format: 'json', size: value.length, lease_ttl: null, revision: rev });

it('starts a new key empty, in the format its name suggests, without loading', async () => {
  let calls = 0;
  mockIPC(() => calls++);
  const loaded: (KeyValue | null)[] = [];
  const { result } = renderHook(() => useKeyValue('c1', '/a/b.yaml', true, 0, (v) => loaded.push(v)), {});
  await flush();
  expect(calls).toBe(0);
  expect(loaded).toEqual([null]);
  expect(result.current.format).toBe('yaml');
  expect(result.current.loading).toBe(false);
  expect(result.current.dirty).toBe(true); // a new key is something to create
  expect(formatForName('x.TOML')).toBe('toml');
  expect(formatForName('x')).toBe('plain');
});

it('loads the value into the draft; a quiet reload of a deleted key marks it gone', async () => {
  let answer: () => unknown = () => kv('{"a":1}', 5);
  mockIPC(() => answer());
  const loaded: (KeyValue | null)[] = [];
  const { result } = renderHook(() => useKeyValue('c1', '/a/b', false, 0, (v) => loaded.push(v)), {});
  expect(result.current.loading).toBe(true);
  await flush();
  expect(result.current.draft).toBe('{"a":1}');
  expect(result.current.loadedRev).toBe(5);
  expect(result.current.dirty).toBe(false);
  result.current.setDraft('{"a":2}');
  await flush();
  expect(result.current.dirty).toBe(true);

  answer = () => {
    throw { code: 'not_found', message: 'gone' };
  };
  await result.current.load(true);
  await flush();
  expect(result.current.gone).toBe(true);
  expect(result.current.kv).toBeNull();
  expect(result.current.loadError).toBeNull();
  expect(loaded.at(-1)).toBeNull();

  await result.current.load(); // not quiet: "not found" is an error to show
  await flush();
  expect(result.current.loadError?.message).toBe('gone');
});
