// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrefixDiff } from '../../../api/types';
import { flush, renderHook } from '../../../util/renderHook';
import { guessRight, normPrefix, toggled, useCompare } from './useCompare';

const item = (rel: string) => ({ rel, left: 'a', right: 'b', left_mod_revision: 1, right_mod_revision: 2 });

afterEach(() => clearMocks());

describe('compare helpers', () => {
  it('normalises prefixes to a trailing slash', () => {
    expect(normPrefix(' /app/dev ')).toBe('/app/dev/');
    expect(normPrefix('/app/dev/')).toBe('/app/dev/');
    expect(normPrefix('   ')).toBe('');
  });
  it('offers the prod twin of a dev prefix only', () => {
    expect(guessRight('/app/dev/')).toBe('/app/prod/');
    expect(guessRight('/app/staging/')).toBe('');
  });
  it('toggles a member into a new set', () => {
    const s = new Set(['a']);
    expect([...toggled(s, 'b')]).toEqual(['a', 'b']);
    expect([...toggled(s, 'a')]).toEqual([]);
    expect([...s]).toEqual(['a']);
  });
});

describe('useCompare', () => {
  it('compares the normalised prefixes, opens the first three diffs and clears the selection', async () => {
    const calls: unknown[] = [];
    const diff: PrefixDiff = {
      left: '/a/',
      right: '/b/',
      only_left: [item('x')],
      only_right: [],
      different: ['d1', 'd2', 'd3', 'd4'].map(item),
      same: 0,
    } as unknown as PrefixDiff;
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return diff;
    });
    const { result } = renderHook(() => useCompare('c1', '/a'), {});
    expect(result.current.right).toBe('');
    result.current.setRight(' /b');
    await flush();
    result.current.toggleSelected('x');
    await flush();
    expect([...result.current.selected]).toEqual(['x']);
    await result.current.run();
    await flush();
    expect(calls).toEqual([['config_compare', { connectionId: 'c1', left: '/a/', right: '/b/' }]]);
    expect(result.current.left).toBe('/a/');
    expect(result.current.right).toBe('/b/');
    expect([...result.current.open]).toEqual(['d1', 'd2', 'd3']);
    expect(result.current.selected.size).toBe(0);
    result.current.selectAll(['x', 'd1'], true);
    await flush();
    expect([...result.current.selected]).toEqual(['x', 'd1']);
    result.current.selectAll(['x'], false);
    await flush();
    expect([...result.current.selected]).toEqual(['d1']);
  });

  it('does not call the backend while a side is empty, and keeps the error of a failed compare', async () => {
    let n = 0;
    mockIPC(() => {
      n++;
      throw { code: 'etcd', message: 'down' };
    });
    const { result } = renderHook(() => useCompare('c1', '/a/'), {});
    await result.current.run();
    await flush();
    expect(n).toBe(0);
    result.current.setRight('/b/');
    await flush();
    await result.current.run();
    await flush();
    expect(n).toBe(1);
    expect(result.current.error?.message).toBe('down');
    expect(result.current.running).toBe(false);
    expect(result.current.result).toBeNull();
  });
});
