// @vitest-environment jsdom
// The apply dialog's review step against a fake IPC backend: nothing is
// applied before a review; per cluster the permission result, the conflicts
// table (field, manager) and the diff (collapsed, +/- coloured); Apply only
// when every cluster is clean, forcing only with a reason, which is sent.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ClusterHealth, ClusterReview } from '../../api/types';
import { act, waitFor } from '../../util/renderHook';
import { ApplyDialog } from './ApplyDialog';
import { cardKey, type Card } from './model';
import { decision, diffLines } from './review';

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
  ['prod', 'staging'].map((c) => [cardKey('conn-1', c), { connectionId: 'conn-1', connection: 'lab', health: health(c), stale: false }]),
);
const DIFF = '--- live\n+++ dry-run\n@@ -5,3 +5,3 @@\n   template:\n-        image: web:1\n+        image: web:2\n';
const object = (over: Partial<ClusterReview['objects'][number]>): ClusterReview['objects'][number] => ({
  kind: 'Deployment',
  namespace: 'shop',
  name: 'web',
  exists: true,
  access: [{ verb: 'patch', resource: 'deployments.apps', allowed: true, reason: null }],
  allowed: true,
  conflicts: [],
  diff: DIFF,
  note: null,
  error: null,
  ...over,
});
const cluster = (context: string, over: Partial<ClusterReview> = {}): ClusterReview => ({
  context,
  clean: true,
  denied: false,
  conflicted: false,
  error: null,
  error_code: null,
  objects: [object({})],
  ...over,
});
const conflicted = (context: string) =>
  cluster(context, {
    clean: false,
    conflicted: true,
    objects: [object({ conflicts: [{ field: '.spec.replicas', manager: 'kube-controller-manager', message: 'conflict with "kube-controller-manager"' }] })],
  });

let reviews: ClusterReview[];
let calls: [string, Record<string, unknown>][];

const $ = (sel: string) => document.querySelector<HTMLElement>(sel);
const click = (sel: string) => act(() => $(sel)!.click());
const type = (sel: string, value: string) =>
  act(() => {
    const el = $(sel) as HTMLInputElement;
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });

beforeEach(() => {
  calls = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args as Record<string, unknown>]);
    if (cmd === 'clusters_apply_review') return reviews;
    if (cmd === 'clusters_apply') return [{ context: 'prod', ok: true, error: null, objects: [], rollouts: [] }];
    return null;
  });
  act(() => render(<ApplyDialog cards={cards} onClose={() => undefined} />, document.body));
});

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

async function reviewBoth() {
  type('[data-testid=clusters-apply-text]', 'apiVersion: apps/v1\nkind: Deployment\n');
  click('[data-testid=clusters-apply-context][data-context=prod] input');
  click('[data-testid=clusters-apply-context][data-context=staging] input');
  expect($('[data-testid=clusters-apply-run]')).toBeNull();
  click('[data-testid=clusters-review-run]');
  await waitFor(() => $('[data-testid=clusters-review]'));
}

it('shows the permission result, conflicts and a collapsed coloured diff; Apply stays off; forcing needs a reason', async () => {
  reviews = [cluster('prod'), conflicted('staging')];
  await reviewBoth();
  expect(calls.map((c) => c[0])).toEqual(['clusters_apply_review']);
  expect(calls[0][1]).toMatchObject({ connectionId: 'conn-1', contexts: ['prod', 'staging'] });

  const staging = $('[data-testid=clusters-review-cluster][data-context=staging]')!;
  expect(staging.dataset.verdict).toBe('conflicts');
  const rows = [...staging.querySelectorAll('[data-testid=clusters-review-conflicts] tbody tr')].map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent));
  expect(rows).toEqual([['.spec.replicas', 'kube-controller-manager']]);
  expect(staging.querySelector('[data-testid=clusters-review-access]')!.textContent).toContain('patch');
  const diff = staging.querySelector<HTMLDetailsElement>('[data-testid=clusters-review-diff]')!;
  expect(diff.open).toBe(false);
  expect(diff.querySelector('.mono, .diff-body')).not.toBeNull();
  expect(diff.querySelector('.diff-add')!.textContent).toBe('+        image: web:2');
  expect(diff.querySelector('.diff-del')!.textContent).toBe('-        image: web:1');

  expect(($('[data-testid=clusters-apply-run]') as HTMLButtonElement).disabled).toBe(true);
  click('[data-testid=clusters-force-open]');
  const force = $('[data-testid=clusters-force-run]') as HTMLButtonElement;
  expect(force.disabled).toBe(true);
  type('[data-testid=clusters-force-reason]', '   ');
  expect(($('[data-testid=clusters-force-run]') as HTMLButtonElement).disabled).toBe(true);
  type('[data-testid=clusters-force-reason]', ' freeze CHG-42 ');
  click('[data-testid=clusters-force-run]');
  await waitFor(() => $('[data-testid=clusters-apply-result]'));
  expect(calls[1]).toEqual(['clusters_apply', { connectionId: 'conn-1', contexts: ['prod', 'staging'], manifest: 'apiVersion: apps/v1\nkind: Deployment\n', forceReason: 'freeze CHG-42' }]);
});

it('applies without force only when every cluster is clean, and a denial blocks everything', async () => {
  reviews = [cluster('prod'), cluster('staging', { clean: false, denied: true, objects: [object({ allowed: false, access: [{ verb: 'patch', resource: 'deployments.apps', allowed: false, reason: null }] })] })];
  await reviewBoth();
  expect($('[data-testid=clusters-review-blocked]')).not.toBeNull();
  expect(($('[data-testid=clusters-apply-run]') as HTMLButtonElement).disabled).toBe(true);
  expect($('[data-testid=clusters-force-open]')).toBeNull();
  expect($('[data-testid=clusters-review-cluster][data-context=staging] [data-testid=clusters-review-access]')!.textContent).toContain('deployments.apps');

  // Editing the manifest drops the review: it held for the old text only.
  reviews = [cluster('prod'), cluster('staging')];
  type('[data-testid=clusters-apply-text]', 'apiVersion: apps/v1\nkind: Deployment\n# edited\n');
  expect($('[data-testid=clusters-review]')).toBeNull();
  click('[data-testid=clusters-review-run]');
  await waitFor(() => $('[data-testid=clusters-review]'));
  click('[data-testid=clusters-apply-run]');
  await waitFor(() => $('[data-testid=clusters-apply-result]'));
  expect(calls.at(-1)![1]).toMatchObject({ forceReason: null });
});

it('decides apply, force or blocked from the verdicts, and classifies diff lines', () => {
  expect(decision([cluster('a')])).toBe('apply');
  expect(decision([cluster('a'), conflicted('b')])).toBe('force');
  expect(decision([conflicted('b'), cluster('c', { clean: false, error: 'unreachable', objects: [] })])).toBe('blocked');
  expect(decision([])).toBe('blocked');
  expect(diffLines(DIFF).map((l) => l.kind)).toEqual(['head', 'head', 'hunk', 'ctx', 'del', 'add']);
});
