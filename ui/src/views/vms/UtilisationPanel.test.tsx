// @vitest-environment jsdom
// The Utilisation tab against a fake IPC backend: clusters, hosts and VMs
// with their figures and verdicts (samples shown as counted/expected); an
// idle VM made by a request has a Reclaim button, a double click files one
// reclaim; an idle VM with no request has none; an error is shown with retry.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { UtilisationReport, VmActivity, WindowStats } from '../../api/types';
import { ToastProvider } from '../../components/Toast';
import { act, waitFor } from '../../util/renderHook';
import { UtilisationPanel } from './UtilisationPanel';

const w = (over: Partial<WindowStats>): WindowStats => ({
  samples: 180,
  expected: 180,
  cpu_avg_pct: 1,
  cpu_p95_pct: 1.5,
  cpu_max_pct: 2,
  mem_avg_pct: null,
  mem_max_pct: null,
  net_avg_kbps: 0.5,
  net_p95_kbps: 0.8,
  net_max_kbps: 1,
  ...over,
});
const vm = (name: string, verdict: VmActivity['verdict'], request: string, over: Partial<WindowStats> = {}): VmActivity => ({
  vm_id: `vm-${name}`,
  name,
  host: 'h1',
  cpu: 2,
  memory_mb: 2048,
  request,
  owner: request ? 'alice' : '',
  department: request ? 'qa' : '',
  verdict,
  detail: `${verdict}: figures`,
  window: w(over),
});
const report: UtilisationReport = {
  at: '2026-12-05T09:00:00Z',
  rules: { window_hours: 168, cpu_pct: 5, net_kbps: 10, min_coverage_pct: 80 },
  interval_secs: 1800,
  clusters: [{ id: 'c1', name: 'C1', hosts: 2, cpu_used_mhz: 500, cpu_capacity_mhz: 1000, memory_used_bytes: 2 ** 30, memory_capacity_bytes: 4 * 2 ** 30, vms: 3 }],
  hosts: [
    { id: 'h1', name: 'esx-1', cluster: 'C1', connected: true, maintenance: false, cpu_used_mhz: 250, cpu_capacity_mhz: 500, memory_used_bytes: 2 ** 29, memory_capacity_bytes: 2 * 2 ** 30, vms: 2, window: w({ mem_avg_pct: 40 }) },
  ],
  vms: [vm('idle-req', 'idle', 'r20261205-aaaa1111'), vm('idle-noreq', 'idle', ''), vm('busy-1', 'busy', 'r2'), vm('new-1', 'not_enough_data', 'r3', { samples: 12, expected: 336 })],
};

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

it('shows clusters, hosts and verdicts; a double click on Reclaim files one reclaim', async () => {
  const calls: [string, unknown][] = [];
  let release: () => void = () => {};
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'vms_utilisation') return report;
    if (cmd === 'vms_reclaim') return new Promise((ok) => (release = () => ok({})));
    throw new Error(`unexpected ${cmd}`);
  });
  act(() =>
    render(
      <ToastProvider>
        <UtilisationPanel connId="00000000-0000-0000-0000-000000000001" version={0} />
      </ToastProvider>,
      document.body,
    ),
  );
  await waitFor(() => document.querySelectorAll('[data-testid=utilisation-vm]').length === 4);
  const text = document.body.textContent ?? '';
  expect(text).toContain('50.0 %');
  expect(text).toContain('12/336');
  expect(text).toContain('Not enough data');
  const buttons = document.querySelectorAll<HTMLButtonElement>('[data-testid=utilisation-reclaim]');
  expect(buttons.length).toBe(1);
  act(() => {
    buttons[0].click();
    buttons[0].click();
  });
  await waitFor(() => calls.some(([c]) => c === 'vms_reclaim'));
  expect(calls.filter(([c]) => c === 'vms_reclaim').length).toBe(1);
  expect((calls.find(([c]) => c === 'vms_reclaim')?.[1] as { id: string }).id).toBe('r20261205-aaaa1111');
  act(() => release());
  await waitFor(() => (document.body.textContent ?? '').includes('Reclaim of idle-req filed'));
});

it('shows an error from vCenter with a retry', async () => {
  mockIPC((cmd) => {
    if (cmd === 'vms_utilisation') throw { code: 'unreachable', message: 'reading performance samples: vCenter did not answer' };
    throw new Error(`unexpected ${cmd}`);
  });
  act(() =>
    render(
      <ToastProvider>
        <UtilisationPanel connId="00000000-0000-0000-0000-000000000001" version={0} />
      </ToastProvider>,
      document.body,
    ),
  );
  await waitFor(() => (document.body.textContent ?? '').includes('vCenter did not answer'));
});
