// @vitest-environment jsdom
// The health timeline against a fake IPC backend: it asks for the one
// context, shows a row per change with from → to (first seen without a
// from), and the findings that appeared and cleared; an empty history says so.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { HealthTransition } from '../../api/types';
import { act, waitFor } from '../../util/renderHook';
import { ClusterHistory } from './ClusterHistory';

const notReady = { severity: 'warning' as const, kind: 'node', object: 'node/n1', message: 'node n1 is NotReady' };
const row = (id: number, from: HealthTransition['from'], to: HealthTransition['to'], over: Partial<HealthTransition> = {}): HealthTransition => ({
  id,
  context: 'prod-b',
  server: 'https://10.0.0.7:6443',
  at: `2026-12-0${id}T10:00:00Z`,
  from,
  to,
  source: 'live',
  origin: 'lab',
  findings: [],
  appeared: [],
  cleared: [],
  ...over,
});

const $$ = (sel: string) => Array.from(document.querySelectorAll<HTMLElement>(sel));

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

it('lists each change with the findings that appeared and cleared, newest first', async () => {
  const calls: Record<string, unknown>[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'clusters_history') return null;
    calls.push(args as Record<string, unknown>);
    return [row(3, 'degraded', 'healthy', { cleared: [notReady] }), row(2, 'healthy', 'degraded', { appeared: [notReady], findings: [notReady], source: 'cli' }), row(1, null, 'healthy')];
  });
  act(() => render(<ClusterHistory connectionId="conn-1" context="prod-b" />, document.body));
  await waitFor(() => $$('[data-testid=cluster-history-row]').length === 3);
  expect(calls[0]).toMatchObject({ connectionId: 'conn-1', context: 'prod-b', since: null });
  const rows = $$('[data-testid=cluster-history-row]');
  expect(rows.map((r) => r.dataset.to)).toEqual(['healthy', 'degraded', 'healthy']);
  expect(rows[0].textContent).toContain('node n1 is NotReady');
  expect(rows[1].textContent).toContain('CLI');
  expect(rows[1].textContent).toContain('node n1 is NotReady');
  expect(rows[2].textContent).toContain('first seen');
});

it('says when nothing was recorded yet', async () => {
  mockIPC((cmd) => (cmd === 'clusters_history' ? [] : null));
  act(() => render(<ClusterHistory connectionId="conn-1" context="prod-b" />, document.body));
  await waitFor(() => document.body.textContent?.includes('No verdict change recorded yet'));
});
