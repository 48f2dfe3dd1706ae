// @vitest-environment jsdom
// The fleet workloads view against a fake IPC backend: a row per Deployment,
// a column per context, the drifting cell marked, a dead context shown as
// "not read" with a warning (never "missing"), drift only, the namespace
// asked for, an error with retry, and the empty state.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { Connection, FleetReport } from '../../api/types';
import { act, waitFor } from '../../util/renderHook';
import { FleetWorkloads } from './FleetWorkloads';

const conn = { id: 'conn-1', name: 'lab', spec: { kind: 'kubernetes', kubeconfig: '/k', contexts: [] } } as unknown as Connection;
const report: FleetReport = {
  contexts: ['east', 'west'],
  errors: [{ context: 'dead', code: 'unreachable', message: 'connection refused' }],
  workloads: [
    {
      namespace: 'shop',
      name: 'web',
      placements: [
        { context: 'east', replicas: 3, ready: 3, images: ['app=registry.local/web:1'] },
        { context: 'west', replicas: 3, ready: 3, images: ['app=registry.local/web:2'] },
      ],
      missing: [],
      image_drift: true,
      replica_drift: false,
    },
    { namespace: 'shop', name: 'api', placements: [{ context: 'east', replicas: 2, ready: 1, images: ['app=registry.local/api:7'] }], missing: ['west'], image_drift: false, replica_drift: false },
    {
      namespace: 'shop',
      name: 'same',
      placements: [
        { context: 'east', replicas: 1, ready: 1, images: ['app=registry.local/same:1'] },
        { context: 'west', replicas: 1, ready: 1, images: ['app=registry.local/same:1'] },
      ],
      missing: [],
      image_drift: false,
      replica_drift: false,
    },
  ],
};

const $$ = (sel: string) => Array.from(document.querySelectorAll<HTMLElement>(sel));
const row = (name: string) => $$('[data-testid=fleet-row]').find((r) => r.dataset.name === name)!;

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

it('shows each Deployment across contexts, the drifting cell marked, a dead context not read and never missing', async () => {
  const calls: Record<string, unknown>[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'clusters_fleet_workloads') return null;
    calls.push(args as Record<string, unknown>);
    return report;
  });
  act(() => render(<FleetWorkloads connections={[conn]} />, document.body));
  await waitFor(() => $$('[data-testid=fleet-row]').length === 3);
  expect(calls[0]).toMatchObject({ connectionId: 'conn-1', namespace: null });
  // Drifted rows first (images over missing), the same one last.
  expect($$('[data-testid=fleet-row]').map((r) => r.dataset.name)).toEqual(['shop/web', 'shop/api', 'shop/same']);
  expect(document.querySelector('[data-testid=fleet-summary]')?.getAttribute('data-drifted')).toBe('2');
  const headers = $$('th').map((h) => h.textContent);
  expect(headers).toEqual(expect.arrayContaining(['east', 'west', 'dead']));
  const cells = (name: string) => Array.from(row(name).querySelectorAll<HTMLElement>('[data-testid=fleet-cell]')).map((c) => c.dataset.state);
  // web: east and west differ (a tie: the first is the usual one), dead not read.
  expect(cells('shop/web')).toEqual(['same', 'drift', 'unread']);
  expect(cells('shop/api')).toEqual(['same', 'missing', 'unread']);
  expect(row('shop/web').textContent).toContain('images differ');
  expect(row('shop/api').textContent).toContain('missing in west');
  expect(row('shop/web').textContent).toContain('web:2');
  const warning = document.querySelector('[data-testid=fleet-unread]')!.textContent!;
  expect(warning).toContain('dead');
  expect(warning).toContain('not counted as missing');

  // Drift only hides the row that is the same everywhere.
  act(() => (document.querySelector('[data-testid=fleet-drift-only]') as HTMLInputElement).click());
  await waitFor(() => $$('[data-testid=fleet-row]').length === 2);

  // A namespace is asked for when typed and submitted.
  const ns = document.querySelector('[data-testid=fleet-namespace]') as HTMLInputElement;
  act(() => {
    ns.value = 'shop';
    ns.dispatchEvent(new Event('input', { bubbles: true }));
  });
  act(() => {
    ns.form!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  await waitFor(() => calls.length === 2);
  expect(calls[1]).toMatchObject({ namespace: 'shop' });
});

it('shows the error with a retry, then the empty state', async () => {
  let fail = true;
  mockIPC((cmd) => {
    if (cmd !== 'clusters_fleet_workloads') return null;
    if (fail) throw { code: 'unreachable', message: 'no context could be read: east: connection refused' };
    return { contexts: ['east'], errors: [], workloads: [] };
  });
  act(() => render(<FleetWorkloads connections={[conn]} />, document.body));
  await waitFor(() => document.body.textContent?.includes('no context could be read'));
  fail = false;
  const retry = $$('button').find((b) => /retry/i.test(b.textContent ?? ''))!;
  act(() => retry.click());
  await waitFor(() => document.body.textContent?.includes('No Deployments in these clusters.'));
});
