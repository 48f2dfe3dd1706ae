// @vitest-environment jsdom
// The delegations panel against a fake IPC backend: the list shows each
// delegation's step, days and state (in force, not in force, revoked); the
// form sends the delegate, step, department, days and reason (no department
// for the admin step); revoke asks for that id; a refusal is shown as a toast.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { DelegationView } from '../../api/types';
import { ToastProvider } from '../../components/Toast';
import { act, waitFor } from '../../util/renderHook';
import { DelegationsPanel } from './DelegationsPanel';

const d = (id: string, over: Partial<DelegationView>): DelegationView => ({
  id,
  approver: 'bob',
  delegate: 'eve',
  stage: 'manager',
  department: 'qa',
  start: '2026-12-05',
  end: '2026-12-08',
  reason: 'holiday',
  created_at: '2026-12-05T08:00:00Z',
  revoked: null,
  active: true,
  ...over,
});

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

function type(testid: string, value: string) {
  const el = document.querySelector(`[data-testid=${testid}]`) as HTMLInputElement | HTMLSelectElement;
  act(() => {
    el.value = value;
    el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
  });
}

it('lists delegations with their state, files a new one and revokes one', async () => {
  const calls: [string, unknown][] = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'vms_delegations') return [d('d1', {}), d('d2', { active: false, start: '2026-12-20' }), d('d3', { active: false, revoked: { at: '2026-12-05T09:00:00Z', by: 'bob' } })];
    if (cmd === 'vms_escalation_policies') return [{ department: 'qa', timeout_hours: 48, escalate_to: 'ivy' }];
    if (cmd === 'vms_delegate') {
      const input = (args as { input: { delegate: string } }).input;
      if (input.delegate === 'bob') throw { code: 'invalid_input', message: 'bob cannot delegate to themselves: name another person' };
      return d('d4', {});
    }
    if (cmd === 'vms_revoke_delegation') return d('d1', { revoked: { at: 'now', by: 'bob' } });
    return null;
  });
  act(() =>
    render(
      <ToastProvider>
        <DelegationsPanel version={0} />
      </ToastProvider>,
      document.body,
    ),
  );
  await waitFor(() => (document.querySelectorAll('[data-testid=delegation-revoke]').length === 2 ? true : null));
  const text = document.querySelector('[data-testid=vm-delegations]')!.textContent!;
  expect(text).toContain('In force');
  expect(text).toContain('Not in force now');
  expect(text).toContain('Revoked');
  expect(text).toContain('manager of qa');
  expect(document.querySelector('[data-testid=escalation-policies]')!.textContent).toContain('48 h goes to ivy');

  // A new admin-step delegation: no department is sent.
  act(() => (document.querySelector('[data-testid=delegation-new]') as HTMLButtonElement).click());
  type('delegation-delegate', 'carl');
  type('delegation-stage', 'admin');
  type('delegation-start', '2026-12-20');
  type('delegation-end', '2026-12-24');
  type('delegation-reason', 'training');
  act(() => {
    document.querySelector('[data-testid=delegation-form]')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  await waitFor(() => (calls.some(([c]) => c === 'vms_delegate') ? true : null));
  expect(calls.find(([c]) => c === 'vms_delegate')![1]).toEqual({
    input: { delegate: 'carl', stage: 'admin', department: null, start: '2026-12-20', end: '2026-12-24', reason: 'training' },
  });

  // Refused: the backend's message is shown.
  await waitFor(() => (document.querySelector('[data-testid=delegation-form]') ? null : true));
  act(() => (document.querySelector('[data-testid=delegation-new]') as HTMLButtonElement).click());
  type('delegation-delegate', 'bob');
  type('delegation-department', 'qa');
  type('delegation-reason', 'x');
  act(() => {
    document.querySelector('[data-testid=delegation-form]')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  await waitFor(() => (document.body.textContent!.includes('cannot delegate to themselves') ? true : null));

  act(() => (document.querySelector('[data-testid=delegation-revoke]') as HTMLButtonElement).click());
  await waitFor(() => (calls.some(([c]) => c === 'vms_revoke_delegation') ? true : null));
  expect(calls.find(([c]) => c === 'vms_revoke_delegation')![1]).toEqual({ id: 'd1' });
});
