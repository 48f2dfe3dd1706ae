// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { Connection } from '../../../api/types';
import { act, flush, renderHook } from '../../../util/renderHook';
import { emptyForm } from '../validate';
import { useConnectionForm } from './useConnectionForm';

afterEach(() => {
  clearMocks();
  document.body.innerHTML = '';
});

it('shows a field error once the field was left, and on submit focuses the first wrong field without saving', async () => {
  let saves = 0;
  mockIPC(() => saves++);
  document.body.innerHTML = '<input id="conn-name"><textarea id="conn-etcd-endpoints"></textarea>';
  const { result } = renderHook(() => useConnectionForm(emptyForm('etcd'), ['taken'], () => {}), {});
  expect(result.current.errors.name).toBeTruthy();
  expect(result.current.shown('name')).toBeNull();
  act(() => result.current.text('name').onBlur());
  expect(result.current.shown('name')).toBeTruthy();
  expect(result.current.shown('endpoints')).toBeNull();

  await act(() => result.current.submit());
  expect(saves).toBe(0);
  expect(document.activeElement?.id).toBe('conn-name');
  expect(result.current.shown('endpoints')).toBeTruthy();
  expect(result.current.firstError).toBe('name');

  act(() => result.current.set('name', 'taken'));
  expect(result.current.errors.name).toBeTruthy(); // used by another connection
});

it('saves the latest values, even typed in the same task as the submit, and keeps the backend error until the next edit', async () => {
  const saved: unknown[] = [];
  mockIPC((_cmd, args) => {
    const input = (args as { input: { name: string } }).input;
    saved.push(input);
    if (input.name === 'dup') throw { code: 'invalid_input', message: 'name: "dup" is already used' };
    return { id: 'x', name: input.name } as unknown as Connection;
  });
  const done: Connection[] = [];
  const { result } = renderHook(() => useConnectionForm(emptyForm('etcd'), [], (c) => done.push(c)), {});
  // No render between these: submit must read what was just typed.
  result.current.set('name', 'dup');
  result.current.set('endpoints', 'http://127.0.0.1:2379');
  await act(() => result.current.submit());
  await flush();
  expect(saved).toHaveLength(1);
  expect(result.current.serverError?.code).toBe('invalid_input');
  expect(result.current.saving).toBe(false);
  act(() => result.current.set('name', 'fresh'));
  expect(result.current.serverError).toBeNull();
  await act(() => result.current.submit());
  await flush();
  expect(done.map((c) => c.name)).toEqual(['fresh']);
});
