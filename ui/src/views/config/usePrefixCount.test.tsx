// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import { flush, renderHook, waitFor } from '../../util/renderHook';
import { usePrefixCount, type KnownCount } from './usePrefixCount';

afterEach(() => clearMocks());

function counting() {
  const asked: string[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'config_count') throw new Error(`unexpected ${cmd}`);
    asked.push((args as { prefix: string }).prefix);
    return Promise.resolve(7);
  });
  return asked;
}

type P = { prefix: string; known: KnownCount };

it('a first page that counted the prefix is the count: no second walk of it; a recount asks', async () => {
  const asked = counting();
  const { result, rerender } = renderHook(({ prefix, known }: P) => usePrefixCount('c1', prefix, known), { prefix: '/big/', known: { pending: true, total: null } } as P);
  await new Promise((r) => setTimeout(r, 200));
  await flush();
  expect(asked).toEqual([]); // waits for the first page
  rerender({ prefix: '/big/', known: { pending: false, total: 1_000_000 } });
  await flush();
  expect(result.current.count).toBe(1_000_000);
  await new Promise((r) => setTimeout(r, 200));
  await flush();
  expect(asked).toEqual([]);
  result.current.recount(); // a change under the prefix: counted again
  await waitFor(() => result.current.count === 7);
  expect(asked).toEqual(['/big/']);
});

it('a first page without the count (read from a remembered bound) is followed by a count', async () => {
  const asked = counting();
  const { result, rerender } = renderHook(({ prefix, known }: P) => usePrefixCount('c1', prefix, known), { prefix: '/big/', known: { pending: true, total: null } } as P);
  await flush();
  rerender({ prefix: '/big/', known: { pending: false, total: null } });
  await waitFor(() => result.current.count === 7);
  expect(asked).toEqual(['/big/']);
});

it('a prefix opened with its pages already there is counted afresh (the count its page brought may be old)', async () => {
  const asked = counting();
  const { result } = renderHook(({ prefix, known }: P) => usePrefixCount('c1', prefix, known), { prefix: '/big/', known: { pending: false, total: 1_000_000 } } as P);
  await waitFor(() => result.current.count === 7);
  expect(asked).toEqual(['/big/']);
});
