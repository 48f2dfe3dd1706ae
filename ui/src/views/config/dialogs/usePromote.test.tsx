// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import { flush, renderHook } from '../../../util/renderHook';
import { usePromote } from './usePromote';

afterEach(() => clearMocks());

const side = (connection: string) => ({ connection, prefix: '/app/', cluster_id: '00000000000000aa', revision: 3 });
const item = (rel: string, action: 'add' | 'change' | 'remove') => ({
  rel,
  action,
  source_mod_revision: action === 'remove' ? 0 : 5,
  target_mod_revision: action === 'add' ? 0 : 9,
  value: action === 'remove' ? null : { base64: '/wA=' },
  current: action === 'add' ? null : 'old',
});
const plan = { kind: 'opsdeck.config.promote.plan', version: 1, created_at: '', from: side('dev'), to: side('prod'), unchanged: 1, items: [item('a', 'add'), item('b', 'change'), item('c', 'remove')], checksum: 'abc' };
const report = (landed: string[]) => ({
  kind: 'opsdeck.config.promote.report',
  plan_checksum: 'abc',
  from: 'dev:/app/',
  to: 'prod:/app/',
  selected: 2,
  batches: [{ index: 1, revision: 10, committed_at: '', adds: 1, changes: 0, removes: 0, keys: landed }],
  already_applied: 0,
  not_applied: ['b'],
  changed_since_review: [{ rel: 'b', side: 'target', key: '/app/b', reviewed_mod_revision: 9, mod_revision_now: 11 }],
  not_selected: ['c'],
  complete: false,
});

it('plans, chooses adds and changes but not removes, applies exactly that selection and resumes with the report', async () => {
  const calls: [string, Record<string, unknown>][] = [];
  mockIPC((cmd, args) => {
    if (cmd === 'config_promote_protected') return [];
    calls.push([cmd, args as Record<string, unknown>]);
    return cmd === 'config_promote_plan' ? plan : report(['a']);
  });
  const { result } = renderHook(() => usePromote('dev-id', '/app/'), {});
  result.current.setToConnId('prod-id');
  await flush();
  await result.current.makePlan();
  await flush();
  expect(calls[0]).toEqual(['config_promote_plan', { fromConnectionId: 'dev-id', fromPrefix: '/app/', toConnectionId: 'prod-id', toPrefix: '/app/' }]);
  expect([...result.current.selected]).toEqual(['a', 'b']);
  await result.current.apply('go');
  await flush();
  expect(calls[1][1].selection).toEqual({ keys: ['a', 'b'], with_removes: false });
  expect(calls[1][1].previous).toBeNull();
  expect(result.current.report?.changed_since_review[0].key).toBe('/app/b');
  // The remove is applied once ticked; the earlier report is given back to resume.
  result.current.toggle('c');
  await flush();
  await result.current.apply('again');
  await flush();
  expect(calls[2][1].selection).toEqual({ keys: ['a', 'b', 'c'], with_removes: false });
  expect((calls[2][1].previous as { batches: unknown[] }).batches).toHaveLength(1);
});

it('into a protected prefix: says so, and files the selection as a change request instead of applying', async () => {
  const calls: [string, Record<string, unknown>][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args as Record<string, unknown>]);
    if (cmd === 'config_promote_plan') return plan;
    if (cmd === 'config_promote_protected') return ['/app/'];
    if (cmd === 'config_promote_propose') return { id: 'c123', author: 'alice', ops: [{}, {}], state: 'pending' };
    throw new Error(`unexpected ${cmd}`);
  });
  const { result } = renderHook(() => usePromote('dev-id', '/app/'), {});
  result.current.setToConnId('prod-id');
  await flush();
  await result.current.makePlan();
  await flush();
  // Asked about every item of the plan, removes included.
  expect(calls[1]).toEqual(['config_promote_protected', { toConnectionId: 'prod-id', plan, selection: { keys: ['a', 'b', 'c'], with_removes: false } }]);
  expect(result.current.protectedBy).toEqual(['/app/']);
  await result.current.apply('to prod');
  await flush();
  expect(calls.map((c) => c[0])).toEqual(['config_promote_plan', 'config_promote_protected', 'config_promote_propose']);
  expect(calls[2][1]).toMatchObject({ fromConnectionId: 'dev-id', toConnectionId: 'prod-id', selection: { keys: ['a', 'b'], with_removes: false }, comment: 'to prod' });
  expect(result.current.filed?.id).toBe('c123');
  expect(result.current.report).toBeNull();
  expect(result.current.error).toBeNull();
});
