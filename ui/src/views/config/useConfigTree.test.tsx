// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { TreeEntry } from '../../api/types';
import { flush, renderHook } from '../../util/renderHook';
import { loadedChildren } from './tree';
import { useConfigTree } from './useConfigTree';

afterEach(() => clearMocks());

const leaf = (key: string): TreeEntry => ({ name: key.split('/').pop()!, key, is_dir: false, meta: null });

/** A backend whose config_tree answers wait until the test releases them. */
function deferredTree() {
  const asked: { prefix: string; cursor: string | null; answer: (entries: TreeEntry[], next: string | null) => void; fail: () => void }[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'config_tree') throw new Error(cmd);
    const a = args as { prefix: string; cursor: string | null };
    return new Promise((resolve, reject) =>
      asked.push({
        prefix: a.prefix,
        cursor: a.cursor,
        answer: (entries, next) => resolve({ prefix: a.prefix, entries, next_cursor: next, revision: 1, total: null }),
        fail: () => reject({ code: 'etcd', message: 'down' }),
      }),
    );
  });
  return asked;
}

it('asks one page of a directory at a time and continues from its cursor', async () => {
  const asked = deferredTree();
  const { result } = renderHook(() => useConfigTree('c1'), {});
  void result.current.loadPage('/');
  void result.current.loadPage('/'); // already loading: no second request
  await flush();
  expect(asked.map((a) => [a.prefix, a.cursor])).toEqual([['/', null]]);
  expect(result.current.tree.dirs['/'].loading).toBe(true);
  asked[0].answer([leaf('/a')], '/a');
  await flush();
  expect(loadedChildren(result.current.tree.dirs['/']).map((c) => c.key)).toEqual(['/a']);
  void result.current.loadPage('/');
  await flush();
  expect(asked[1].cursor).toBe('/a');
  asked[1].answer([leaf('/b')], null);
  await flush();
  expect(loadedChildren(result.current.tree.dirs['/']).map((c) => c.key)).toEqual(['/a', '/b']);
  expect(result.current.tree.dirs['/'].complete).toBe(true);
  void result.current.loadPage('/'); // complete: nothing more to ask
  await flush();
  expect(asked.length).toBe(2);
});

it('drops the answer of a request made before a reset, and retries a failed directory', async () => {
  const asked = deferredTree();
  const { result } = renderHook(() => useConfigTree('c1'), {});
  void result.current.loadPage('/');
  await flush();
  result.current.reset();
  await flush();
  asked[0].answer([leaf('/old')], null);
  await flush();
  expect(result.current.tree.dirs['/']).toBeUndefined();

  void result.current.loadPage('/'); // the reset forgot the request in flight
  await flush();
  asked[1].fail();
  await flush();
  expect(result.current.tree.dirs['/'].error?.message).toBe('down');
  void result.current.loadPage('/'); // failed: only retry() asks again
  await flush();
  expect(asked.length).toBe(2);
  // retry() clears the error; the page is asked again by the tree's next look at its rows.
  result.current.retry('/');
  await flush();
  expect(result.current.tree.dirs['/'].error).toBeNull();
  void result.current.loadPage('/');
  await flush();
  expect(asked.length).toBe(3);
});
