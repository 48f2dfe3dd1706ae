// @vitest-environment jsdom
// The rollout dialog against a fake IPC backend: the plan follows the waves
// as typed (and shows the backend's refusal of a bad spec); the run's events
// arrive on a Channel and move each cluster's row (phase and message) while
// it runs; Stop asks the backend to stop the run's task; a failed run that
// changed clusters offers Roll back, which sends the run's id.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ClusterHealth, RolloutEvent, RolloutReport } from '../../api/types';
import { act, waitFor } from '../../util/renderHook';
import { cardKey, type Card } from './model';
import { fold, RolloutDialog } from './RolloutDialog';

const health = (context: string): ClusterHealth => ({
  context,
  verdict: 'healthy',
  version: 'v1.34.0',
  latency_ms: 1,
  insecure_tls: false,
  nodes: { total: 1, ready: 1, cordoned: 0, pressure: 0 },
  findings: [],
  checked_at: '2026-12-04T00:00:00Z',
});
const cards = new Map<string, Card>(
  ['east', 'west', 'south'].map((c) => [cardKey('00000000-0000-4000-8000-000000000001', c), { connectionId: '00000000-0000-4000-8000-000000000001', connection: 'fleet', health: health(c), stale: false }]),
);
const internals = () => (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;

let calls: [string, Record<string, unknown>][];
let send: (e: RolloutEvent) => void;
let finish: (r: RolloutReport) => void;

const $ = (sel: string) => document.querySelector<HTMLElement>(sel);
const click = (sel: string) => act(() => $(sel)!.click());
const type = (sel: string, value: string) =>
  act(() => {
    const el = $(sel) as HTMLInputElement;
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
const ev = (context: string | null, wave: number | null, phase: RolloutEvent['phase'], message: string): RolloutEvent => ({ id: 'ro-1', context, wave, phase, message, elapsed_ms: 1200 });

beforeEach(() => {
  calls = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args as Record<string, unknown>]);
    if (cmd === 'clusters_rollout_plan') {
      const a = args as { contexts: string[]; waves: string };
      if (a.waves === 'nope') throw { code: 'invalid_input', message: 'waves: "nope" is not one of the rollout\'s contexts' };
      return [
        { name: 'canary', contexts: [a.contexts[0]] },
        { name: 'rest', contexts: a.contexts.slice(1) },
      ];
    }
    if (cmd === 'clusters_rollout') {
      const ch = (args as { onEvent: { id: number } }).onEvent;
      let index = 0;
      send = (e) => internals().runCallback(ch.id, { message: e, index: index++ });
      return new Promise<RolloutReport>((resolve) => (finish = resolve));
    }
    if (cmd === 'clusters_rollout_stop') return true;
    if (cmd === 'clusters_rollout_rollback') return { east: [{ object: 'Deployment shop/web', action: 'restored', error: null }] };
    return null;
  });
  act(() => render(<RolloutDialog cards={cards} onClose={() => undefined} />, document.body));
});

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

it('plans, streams progress per cluster, stops, and rolls back a failed run', async () => {
  expect(($('[data-testid=rollout-start]') as HTMLButtonElement).disabled).toBe(true);
  type('[data-testid=rollout-manifest]', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
  for (const c of ['east', 'west', 'south']) click(`[data-testid=rollout-context][data-context=${c}] input`);
  type('[data-testid=rollout-waves]', 'nope');
  await waitFor(() => $('[data-testid=rollout-plan-error]')?.textContent?.includes('is not one of'));
  expect(($('[data-testid=rollout-start]') as HTMLButtonElement).disabled).toBe(true);
  type('[data-testid=rollout-waves]', 'east,rest');
  await waitFor(() => document.querySelectorAll('[data-testid=rollout-wave]').length === 2);
  type('[data-testid=rollout-soak]', '5');
  click('[data-testid=rollout-auto-rollback]');
  click('[data-testid=rollout-start]');

  await waitFor(() => calls.some(([c]) => c === 'clusters_rollout') );
  const [, args] = calls.find(([c]) => c === 'clusters_rollout')!;
  expect(args.contexts).toEqual(['east', 'west', 'south']);
  expect(args.options).toEqual({ waves: 'east,rest', soak_ms: 5000, timeout_ms: 300000, auto_rollback: true });
  const row = (c: string) => $(`[data-testid=rollout-cluster][data-context=${c}]`)!;
  expect(row('east').dataset.phase).toBe('pending');

  act(() => send(ev('east', 0, 'soaking', 'rolled out (shop/web 2/2 available); soaking 5 s')));
  await waitFor(() => row('east').dataset.phase === 'soaking');
  expect(row('east').textContent).toContain('Soaking');
  expect(row('east').textContent).toContain('shop/web 2/2 available');
  expect(row('west').dataset.phase).toBe('pending');
  expect($('[data-testid=rollout-log]')!.textContent).toContain('[1.2s] Wave 1 east: Soaking — rolled out');

  click('[data-testid=rollout-stop]');
  await waitFor(() => calls.some(([c]) => c === 'clusters_rollout_stop') );
  expect(calls.find(([c]) => c === 'clusters_rollout_stop')![1].task).toBe(args.task);

  act(() => send(ev('east', 0, 'failed', 'stopped during the soak of cluster "east"')));
  const report: RolloutReport = {
    id: 'ro-1',
    outcome: 'stopped',
    error: 'wave 1 (canary) stopped on east',
    error_code: 'cancelled',
    waves: [],
    can_roll_back: true,
    rolled_back: false,
    elapsed_ms: 3000,
  };
  act(() => finish(report));
  await waitFor(() => $('[data-testid=rollout-outcome]')?.dataset.outcome === 'stopped');
  expect(row('east').dataset.phase).toBe('failed');
  click('[data-testid=rollout-rollback]');
  await waitFor(() => calls.some(([c]) => c === 'clusters_rollout_rollback') );
  expect(calls.find(([c]) => c === 'clusters_rollout_rollback')![1].id).toBe('ro-1');
  await waitFor(() => $('[data-testid=rollout-rollback]') === null);
  expect($('[data-testid=rollout-plan]')!.textContent).toContain('Every changed cluster has its objects as before the rollout.');
});

it('folds only cluster events into the states', () => {
  const s = fold(new Map(), ev(null, null, null, 'rollout ro-1: reviewing'));
  expect(s.size).toBe(0);
  const t = fold(s, ev('west', 1, 'done', 'rolled out'));
  expect(t.get('west')).toEqual({ phase: 'done', message: 'rolled out' });
});
