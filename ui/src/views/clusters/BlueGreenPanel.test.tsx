// @vitest-environment jsdom
// The blue/green and failover panels against a fake IPC backend: status of a
// Service (colours, readiness, keep time), a deploy whose steps arrive on a
// Channel, Stop, a switch refused with 409 shown as "nothing switched", the
// confirmed switch back, clean-up refused while the old colour is kept; a
// failover preview (targets, capacity, why, hook) before Run, the run's result
// and hook, and Fail back disabled with its reason while the source is degraded.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { BlueGreenEvent, BlueGreenStatus, ClusterHealth, ClusterVerdict, DeployReport, FailoverPlan } from '../../api/types';
import { act, waitFor } from '../../util/renderHook';
import { BlueGreenPanel } from './BlueGreenPanel';
import { cleanupRefusal, failbackRefusal, foldStep, pendingSteps, runRefusal, switchBackRefusal } from './bluegreen';
import { FailoverPanel } from './FailoverPanel';
import { cardKey, type Card } from './model';

const CONN = '00000000-0000-4000-8000-000000000001';
const health = (context: string, verdict: ClusterVerdict): ClusterHealth => ({
  context,
  verdict,
  version: 'v1.34.0',
  latency_ms: 1,
  insecure_tls: false,
  nodes: { total: 2, ready: verdict === 'healthy' ? 2 : 0, cordoned: 0, pressure: 0 },
  findings: [],
  checked_at: '2026-12-04T00:00:00Z',
});
const cardsOf = (src: ClusterVerdict) =>
  new Map<string, Card>(
    [
      ['roomy', 'healthy'],
      ['src', src],
    ].map(([c, v]) => [cardKey(CONN, c), { connectionId: CONN, connection: 'fleet', health: health(c, v as ClusterVerdict), stale: false }]),
  );
const internals = () => (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;

const rollout = (name: string, n: number) => ({ namespace: 'shop', name, generation: 1, observed_generation: 1, desired: n, replicas: n, updated: n, available: n, deadline_exceeded: false });
const status = (live: string, previous: string | null, keepUntil: string | null): BlueGreenStatus => ({
  target: { context: 'roomy', namespace: 'shop', service: 'web', label: 'version' },
  live,
  previous,
  switched_at: previous ? '2026-12-05T06:00:00Z' : null,
  keep_until: keepUntil,
  resource_version: '42',
  selector: { app: 'web', version: live },
  colours: ['blue', 'green'].map((c) => ({ colour: c, deployment: `web-${c}`, live: c === live, previous: c === previous, rollout: rollout(`web-${c}`, 2), ready: true, images: [`registry.local/web:${c}`] })),
});

let calls: [string, Record<string, unknown>][];
let current: BlueGreenStatus;
let send: (e: BlueGreenEvent) => void;
let fail: (e: unknown) => void;
let plan: FailoverPlan;

const $ = (sel: string) => document.querySelector<HTMLElement>(sel);
const click = (sel: string) => act(() => $(sel)!.click());
const type = (sel: string, value: string) =>
  act(() => {
    const el = $(sel) as HTMLInputElement;
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
const disabled = (sel: string) => ($(sel) as HTMLButtonElement).disabled;
const called = (cmd: string) => calls.filter(([c]) => c === cmd);

beforeEach(() => {
  calls = [];
  current = status('blue', null, null);
  plan = {
    source: 'src',
    source_server: 'https://127.0.0.1:1',
    source_verdict: 'degraded',
    source_reasons: ['2 of 2 nodes NotReady'],
    specs_from: 'live',
    specs_seen_at: '2026-12-05T06:00:00Z',
    needed: true,
    candidates: [{ context: 'roomy', verdict: 'healthy', reasons: [], capacity: { nodes: 2, nodes_excluded: 0, pods: 0, cpu_allocatable_milli: 2_000_000, cpu_requested_milli: 0, memory_allocatable: 4 * 1_073_741_824, memory_requested: 1_073_741_824, node_cpu_free_milli: 1_000_000, node_memory_free: 1_073_741_824 } }],
    placements: [{ namespace: 'shop', name: 'api', replicas: 2, cpu_milli: 1_200_000, memory_bytes: 2 * 1_073_741_824, target: 'roomy', why: 'needs 1200 CPU; roomy is healthy with 2000 CPU free' }],
  };
  mockIPC((cmd, args) => {
    calls.push([cmd, args as Record<string, unknown>]);
    switch (cmd) {
      case 'bluegreen_status':
        return current;
      case 'bluegreen_deploy': {
        const ch = (args as { onEvent: { id: number } }).onEvent;
        let index = 0;
        send = (e) => internals().runCallback(ch.id, { message: e, index: index++ });
        return new Promise<DeployReport>((_resolve, reject) => (fail = reject));
      }
      case 'bluegreen_stop':
        return true;
      case 'bluegreen_rollback':
        current = status('blue', 'green', '2099-01-01T00:00:00Z');
        return { target: current.target, from: 'green', to: 'blue', switched_at: 'now', keep_until: '2099-01-01T00:00:00Z', resource_version_before: '43', resource_version_after: '44' };
      case 'failover_plan':
        return plan;
      case 'failover_run':
        return { plan, copies: [{ namespace: 'shop', name: 'api', target: 'roomy', ok: true, rollout: rollout('api', 2), error: null }], hook: { name: 'command', ok: true, message: 'exit 0: switched', duration_ms: 12 }, ok: true };
      default:
        return null;
    }
  });
});

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

it('shows a Service, deploys a colour step by step, reports a 409 as nothing switched, switches back after confirming', async () => {
  act(() => render(<BlueGreenPanel cards={cardsOf('healthy')} onClose={() => undefined} />, document.body));
  expect(disabled('[data-testid=bg-load]')).toBe(true);
  type('[data-testid=bg-namespace]', 'shop');
  type('[data-testid=bg-service]', 'web');
  click('[data-testid=bg-load]');
  await waitFor(() => $('[data-testid=bg-status]')?.dataset.live === 'blue');
  expect(called('bluegreen_status')[0][1].service).toEqual({ connection_id: CONN, context: 'roomy', namespace: 'shop', service: 'web', label: 'version' });
  expect(document.querySelectorAll('[data-testid=bg-colour]').length).toBe(2);
  expect($('[data-testid=bg-colour][data-colour=green]')!.textContent).toContain('2/2 updated, 2 available');
  // Nothing to switch back to yet, and why.
  expect(disabled('[data-testid=bg-switch-back]')).toBe(true);
  expect($('[data-testid=bg-why]')!.textContent).toContain('No previous colour');

  expect(disabled('[data-testid=bg-deploy]')).toBe(true);
  type('[data-testid=bg-manifest]', 'kind: Deployment');
  type('[data-testid=bg-smoke-urls]', 'http://smoke/{colour}\n\n');
  type('[data-testid=bg-keep]', '30');
  click('[data-testid=bg-deploy]');
  await waitFor(() => called('bluegreen_deploy').length === 1);
  const args = called('bluegreen_deploy')[0][1];
  expect(args.input).toEqual({ manifest: 'kind: Deployment', smoke_urls: ['http://smoke/{colour}'], smoke_checks: null, keep_minutes: 30, ready_timeout_s: 300 });
  const step = (s: string) => $(`[data-testid=bg-step][data-step=${s}]`)!;
  act(() => send({ step: 'deploy', state: 'done', message: 'deployed: Deployment web-green: created' }));
  act(() => send({ step: 'ready', state: 'running', message: 'waiting for colour green' }));
  await waitFor(() => step('ready').dataset.state === 'running');
  expect(step('deploy').dataset.state).toBe('done');
  expect(step('switch').dataset.state).toBe('pending');
  expect($('[data-testid=bg-log]')!.textContent).toContain('Deploy: deployed: Deployment web-green: created');
  click('[data-testid=bg-stop]');
  await waitFor(() => called('bluegreen_stop').length === 1);
  expect(called('bluegreen_stop')[0][1].task).toBe(args.task);

  act(() => send({ step: 'switch', state: 'failed', message: 'changed' }));
  act(() => fail({ code: 'conflict', message: 'shop/web: changed by someone else since it was read (resourceVersion 42): nothing switched' }));
  await waitFor(() => $('[data-testid=bg-error]') !== null);
  expect($('[data-testid=bg-error]')!.dataset.code).toBe('conflict');
  expect($('[data-testid=bg-error]')!.textContent).toContain('The Service changed since it was read — nothing switched.');
  expect(step('switch').dataset.state).toBe('failed');

  // Switched meanwhile (green live, blue kept): switch back asks first.
  current = status('green', 'blue', '2099-01-01T00:00:00Z');
  click('[data-testid=bg-load]');
  await waitFor(() => $('[data-testid=bg-status]')?.dataset.live === 'green');
  expect(disabled('[data-testid=bg-cleanup]')).toBe(true);
  expect($('[data-testid=bg-cleanup]')!.title).toContain('kept for a switch back until 2099-01-01T00:00:00Z');
  expect(disabled('[data-testid=bg-switch-back]')).toBe(false);
  click('[data-testid=bg-switch-back]');
  expect($('[data-testid=bg-confirm]')!.textContent).toContain('from green back to blue');
  expect(called('bluegreen_rollback').length).toBe(0);
  click('[data-testid=bg-confirm-yes]');
  await waitFor(() => $('[data-testid=bg-done]') !== null);
  expect(called('bluegreen_rollback')[0][1].keepMinutes).toBe(30);
  expect($('[data-testid=bg-done]')!.textContent).toContain('Switched back green → blue');
  await waitFor(() => $('[data-testid=bg-status]')?.dataset.live === 'blue');
});

it('previews a failover before running it, shows the hook result, and keeps Fail back disabled while the source is degraded', async () => {
  act(() => render(<FailoverPanel cards={cardsOf('degraded')} onClose={() => undefined} />, document.body));
  // The unwell cluster is chosen as the source; nothing runs before a preview.
  expect(($('[data-testid=fo-source]') as HTMLSelectElement).value).toBe('src');
  expect(disabled('[data-testid=fo-run]')).toBe(true);
  expect($('[data-testid=fo-run]')!.title).toBe('Preview the failover first.');
  expect(disabled('[data-testid=fo-failback]')).toBe(true);
  expect($('[data-testid=fo-failback]')!.title).toBe('Fail back once src is healthy (now: Degraded).');
  act(() => {
    const s = $('[data-testid=fo-hook-kind]') as HTMLSelectElement;
    s.value = 'command';
    s.dispatchEvent(new Event('change', { bubbles: true }));
  });
  type('[data-testid=fo-hook-value]', './switch.sh');
  click('[data-testid=fo-preview]');
  await waitFor(() => $('[data-testid=fo-plan]') !== null);
  expect(called('failover_plan')[0][1]).toEqual({ connectionId: CONN, source: 'src' });
  expect($('[data-testid=fo-placement]')!.dataset.target).toBe('roomy');
  expect($('[data-testid=fo-placement]')!.textContent).toContain('needs 1200 CPU');
  expect($('[data-testid=fo-candidate]')!.textContent).toContain('2000 / 2000');
  expect($('[data-testid=fo-candidate]')!.textContent).toContain('3.0 / 4.0 GiB');
  expect($('[data-testid=fo-hook-plan]')!.textContent).toBe('Hook that will run: Command ./switch.sh');
  expect(disabled('[data-testid=fo-run]')).toBe(false);
  click('[data-testid=fo-run]');
  await waitFor(() => $('[data-testid=fo-report]') !== null);
  expect(called('failover_run')[0][1].hook).toEqual({ kind: 'command', value: './switch.sh' });
  expect($('[data-testid=fo-report]')!.dataset.ok).toBe('true');
  expect($('[data-testid=fo-hook-result]')!.textContent).toContain('exit 0: switched');
  expect($('[data-testid=fo-placement]')!.textContent).toContain('Available on the target');
});

it('decides what may be offered, and says why not', () => {
  const s = status('green', 'blue', '2026-12-05T07:00:00Z');
  expect(switchBackRefusal(s)).toBeNull();
  expect(cleanupRefusal(s, new Date('2026-12-05T06:59:00Z'))?.key).toBe('bluegreen.why.kept');
  expect(cleanupRefusal(s, new Date('2026-12-05T07:01:00Z'))).toBeNull();
  const notReady = { ...s, colours: s.colours.map((c) => (c.colour === 'blue' ? { ...c, ready: false } : c)) };
  expect(switchBackRefusal(notReady)?.key).toBe('bluegreen.why.previousNotReady');
  expect(switchBackRefusal({ ...s, colours: s.colours.filter((c) => c.colour !== 'blue') })?.key).toBe('bluegreen.why.previousGone');
  expect(foldStep(pendingSteps(), { step: 'smoke', state: 'skipped', message: 'none' }).smoke).toEqual({ state: 'skipped', message: 'none' });
  const p = { source: 'src', needed: true, placements: [{ namespace: 'a', name: 'b', target: null }] } as unknown as FailoverPlan;
  expect(runRefusal(p)).toEqual({ key: 'failover.why.noTarget', values: { workloads: 'a/b' } });
  expect(runRefusal({ ...p, needed: false })?.key).toBe('failover.why.healthy');
  expect(runRefusal({ ...p, placements: [] })?.key).toBe('failover.why.nothingMarked');
  expect(failbackRefusal('src', 'healthy')).toBeNull();
  expect(failbackRefusal('src', 'unreachable')?.key).toBe('failover.why.sourceNotHealthy');
});
