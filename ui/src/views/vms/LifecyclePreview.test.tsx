// @vitest-environment jsdom
// The lifecycle preview against a fake IPC backend: today's plan first, its
// steps by name with what each gives back and the capacity per department;
// another day asks for that day's plan, a cleared day for now; the backend's
// error is shown instead of a plan; an empty plan says nothing is due.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { LifecyclePlan } from '../../api/types';
import { ToastProvider } from '../../components/Toast';
import { act, waitFor } from '../../util/renderHook';
import { capacityText, LifecyclePreview, today } from './LifecyclePreview';
import { t } from '../../i18n';

const cap = (vms: number, vcpu: number, memory_mb: number, disk_gb: number) => ({ vms, vcpu, memory_mb, disk_gb });
const zero = cap(0, 0, 0, 0);
const step = (vm: string, department: string, action: string, over: Partial<LifecyclePlan['steps'][number]> = {}) => ({
  request: `r-${vm}`,
  vm,
  vm_id: `vm-${vm}`,
  department,
  action,
  detail: `${action} of ${vm}`,
  frees_running: zero,
  frees_quota: zero,
  ...over,
});

const PLAN: LifecyclePlan = {
  at: '2027-03-31T12:00:00Z',
  steps: [
    step('qa-web-01', 'qa', 'snapshot'),
    step('qa-db-02', 'qa', 'lease_warning'),
    step('dev-build-01', 'dev', 'power_off', { frees_running: cap(1, 4, 8192, 0) }),
    step('dev-old-03', 'dev', 'reclaim', { frees_quota: cap(1, 2, 4096, 40) }),
  ],
  departments: [
    { department: 'dev', powered_off: cap(1, 4, 8192, 0), reclaimed: cap(1, 2, 4096, 40) },
    { department: 'qa', powered_off: zero, reclaimed: zero },
  ],
};

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

function show(onClose = () => undefined) {
  act(() =>
    render(
      <ToastProvider>
        <LifecyclePreview connId="vc1" onClose={onClose} />
      </ToastProvider>,
      document.body,
    ),
  );
}

it('shows today’s plan: steps by name, what each gives back, capacity per department', async () => {
  const calls: unknown[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'vms_lifecycle_plan') return null;
    calls.push(args);
    return PLAN;
  });
  show();
  await waitFor(() => document.querySelector('[data-testid=lifecycle-step-row]'));
  expect(calls).toEqual([{ connectionId: 'vc1', at: today() }]);
  const rows = [...document.querySelectorAll('[data-testid=lifecycle-step-row]')] as HTMLElement[];
  expect(rows.map((r) => r.dataset.action)).toEqual(['snapshot', 'lease_warning', 'power_off', 'reclaim']);
  const off = rows.find((r) => r.dataset.vm === 'dev-build-01')!;
  expect(off.textContent).toContain('Power off');
  expect(off.textContent).toContain('1 VMs · 4 vCPU · 8 GB memory');
  const destroy = rows.find((r) => r.dataset.vm === 'dev-old-03')!;
  expect(destroy.textContent).toContain('Destroy');
  expect(destroy.textContent).toContain('40 GB disk');
  const dev = document.querySelector('[data-testid=lifecycle-dept-row][data-department=dev]')!;
  expect(dev.textContent).toContain('4 vCPU');
  expect(dev.textContent).toContain('2 vCPU · 4 GB memory · 40 GB disk');
  expect(document.querySelector('[data-testid=lifecycle-dept-row][data-department=qa]')!.textContent).toContain('—');
  expect(document.querySelector('[data-testid=lifecycle-preview-summary]')!.getAttribute('data-steps')).toBe('4');
});

it('asks for another day’s plan (a cleared day: now), shows the backend’s error, and says when nothing is due', async () => {
  const asked: (string | null)[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== 'vms_lifecycle_plan') return null;
    const at = (args as { at: string | null }).at;
    asked.push(at);
    if (at === '2027-05-01') throw { code: 'unreachable', message: 'vCenter vc1 is unreachable: connection refused' };
    return { at: `${at ?? '2026-12-05'}T12:00:00Z`, steps: [], departments: [] };
  });
  show();
  await waitFor(() => document.querySelector('[data-testid=lifecycle-preview-summary]'));
  expect(document.querySelector('[data-testid=lifecycle-preview-summary]')!.textContent).toContain('Nothing is due');

  const input = document.querySelector('[data-testid=lifecycle-preview-at]') as HTMLInputElement;
  const pick = async (day: string, expect: string | null) => {
    act(() => {
      input.value = day;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    // Preview (the dialog's form submitted, as Enter or the button does).
    act(() => {
      input.form!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await waitFor(() => (asked.length > 0 && asked[asked.length - 1] === expect ? true : null));
  };
  await pick('', null);
  await pick('2027-05-01', '2027-05-01');
  await waitFor(() => (document.body.textContent?.includes('unreachable: connection refused') ? true : null));
  expect(document.querySelectorAll('[data-testid=lifecycle-step-row]')).toHaveLength(0);
  expect(document.querySelector('[data-testid=lifecycle-preview-summary]')).toBeNull();
  await pick('2027-04-01', '2027-04-01');
  await waitFor(() => document.querySelector('[data-testid=lifecycle-preview-summary]'));
  expect(asked).toEqual([today(), null, '2027-05-01', '2027-04-01']);
});

it('writes capacity in words, a dash for nothing', () => {
  expect(capacityText(t, zero)).toBe('—');
  expect(capacityText(t, cap(2, 3, 1536, 0), true)).toBe('2 VMs · 3 vCPU · 1.50 GB memory');
});
