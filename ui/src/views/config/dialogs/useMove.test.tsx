// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import { flush, renderHook } from '../../../util/renderHook';
import { useMove } from './useMove';

afterEach(() => clearMocks());

const side = (prefix: string) => ({ connection: 'c', prefix, cluster_id: '00000000000000aa', revision: 3 });
const item = (rel: string, existing: boolean) => ({
  rel,
  action: existing ? 'change' : 'add',
  source_mod_revision: 5,
  target_mod_revision: existing ? 9 : 0,
  value: { base64: '/wA=' },
  current: existing ? 'old' : null,
});
const plan = { kind: 'opsdeck.config.move.plan', version: 1, created_at: '', from: side('/a/'), to: side('/a-moved/'), unchanged: 0, items: [item('x', false), item('y', true)], checksum: 'abc' };
const report = {
  from: '/a/',
  to: '/a-moved/',
  total: 2,
  moved: 0,
  batches: [],
  not_moved: ['x', 'y'],
  changed_since_plan: [{ rel: 'x', side: 'source', key: '/a/x', reviewed_mod_revision: 5, mod_revision_now: 8 }],
  complete: false,
  error: 'move of /a/ to /a-moved/ stopped before batch 1',
};

it('plans the move, counts the targets that exist, and applies exactly that plan with the overwrite choice', async () => {
  const calls: [string, Record<string, unknown>][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args as Record<string, unknown>]);
    return cmd === 'config_move_plan' ? plan : report;
  });
  const { result } = renderHook(() => useMove('conn-id', '/a/'), {});
  expect(result.current.to).toBe('/a-moved/');
  await result.current.makePlan();
  await flush();
  expect(calls[0]).toEqual(['config_move_plan', { connectionId: 'conn-id', from: '/a/', to: '/a-moved/' }]);
  expect(result.current.existing).toBe(1);
  await result.current.apply(true, 'rename');
  await flush();
  expect(calls[1][0]).toBe('config_move_apply');
  expect(calls[1][1]).toMatchObject({ connectionId: 'conn-id', overwrite: true, comment: 'rename' });
  expect((calls[1][1].plan as { checksum: string }).checksum).toBe('abc');
  expect(result.current.report?.changed_since_plan[0].key).toBe('/a/x');
  expect(result.current.plan).toBeNull();
});

it('shows why a plan was refused', async () => {
  mockIPC(() => {
    throw { code: 'invalid_input', message: '/a/ and /a/b/ overlap' };
  });
  const { result } = renderHook(() => useMove('conn-id', '/a/'), {});
  result.current.setTo('/a/b/');
  await flush();
  await result.current.makePlan();
  await flush();
  expect(result.current.error?.message).toContain('overlap');
  expect(result.current.plan).toBeNull();
});
