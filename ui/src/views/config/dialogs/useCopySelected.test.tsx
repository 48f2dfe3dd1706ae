// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import { flush, renderHook } from '../../../util/renderHook';
import { useCompare } from './useCompare';
import { useCopySelected } from './useCopySelected';

afterEach(() => clearMocks());

const item = (rel: string, l: number, r: number) => ({ rel, left: 'a', right: 'b', left_mod_revision: l, right_mod_revision: r });

it('copies the selected keys with the revisions the comparison showed, then compares again', async () => {
  const calls: [string, unknown][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'config_compare')
      return { left: '/a/', right: '/b/', only_left: [item('new', 7, 0)], only_right: [item('theirs', 0, 3)], different: [item('chg', 5, 6), item('skip', 8, 9)], same: 1 };
    return { copied: 2, conflicts: [] };
  });
  let copied = 0;
  const { result } = renderHook(() => {
    const compare = useCompare('c1', '/a/');
    return { compare, copy: useCopySelected('c1', compare, () => copied++) };
  }, {});
  result.current.compare.setRight('/b/');
  await flush();
  await result.current.compare.run();
  await flush();
  result.current.compare.selectAll(['new', 'chg'], true);
  result.current.copy.setConfirming(true);
  result.current.copy.setComment('  sync  ');
  await flush();
  await result.current.copy.copy();
  await flush();
  expect(calls[1]).toEqual([
    'config_copy',
    {
      connectionId: 'c1',
      from: '/a/',
      to: '/b/',
      items: [
        { rel: 'new', left_mod_revision: 7, right_mod_revision: 0 },
        { rel: 'chg', left_mod_revision: 5, right_mod_revision: 6 },
      ],
      comment: 'sync',
    },
  ]);
  expect(calls[2][0]).toBe('config_compare');
  expect(copied).toBe(1);
  expect(result.current.copy.confirming).toBe(false);
  expect(result.current.copy.report).toEqual({ copied: 2, conflicts: [] });
});
