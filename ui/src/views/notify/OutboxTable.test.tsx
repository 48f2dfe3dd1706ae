// @vitest-environment jsdom
// The outbox table against a fake IPC backend: a failed notification shows
// its tries and last error with a Retry button that asks notify_retry for
// it and reloads; a sent one has no button.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { OutboxEntry } from '../../api/types';
import { ToastProvider } from '../../components/Toast';
import { act, waitFor } from '../../util/renderHook';
import { OutboxTable } from './OutboxTable';

const entry = (over: Partial<OutboxEntry>): OutboxEntry => ({
  id: 1,
  event: 'cluster.degraded',
  title: 'Cluster prod is degraded',
  subscriber: 'ops',
  channel_id: 'c1',
  recipient: 'ops@example.com',
  state: 'sent',
  attempts: 1,
  max_attempts: 12,
  next_attempt_at: '2026-12-04T00:00:00Z',
  last_error: null,
  created_at: '2026-12-04T00:00:00Z',
  sent_at: '2026-12-04T00:00:01Z',
  ...over,
});

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});

it('lists tries and the last error; Retry on a failed one asks for it and reloads', async () => {
  const calls: [string, unknown][] = [];
  let failed = entry({ id: 2, state: 'failed', attempts: 1, last_error: 'SMTP server 127.0.0.1:25 refused the login of user "ops" (535)' });
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'notify_outbox') return { entries: [failed, entry({})], counts: { pending: 0, sending: 0, sent: 1, failed: failed.state === 'failed' ? 1 : 0 } };
    if (cmd === 'notify_retry') {
      failed = { ...failed, state: 'pending', attempts: 0 };
      return failed;
    }
    return null;
  });
  act(() =>
    render(
      <ToastProvider>
        <OutboxTable />
      </ToastProvider>,
      document.body,
    ),
  );
  await waitFor(() => document.querySelector('[data-testid=notify-retry]'));
  expect(document.querySelectorAll('[data-testid=notify-retry]')).toHaveLength(1);
  expect(document.body.textContent).toContain('refused the login');
  expect(document.body.textContent).toContain('1/12');
  act(() => (document.querySelector('[data-testid=notify-retry]') as HTMLButtonElement).click());
  await waitFor(() => (document.querySelector('[data-testid=notify-retry]') ? null : true));
  expect(calls.filter(([c]) => c === 'notify_retry')).toEqual([['notify_retry', { id: 2 }]]);
  expect(calls.filter(([c]) => c === 'notify_outbox').length).toBe(2);
});

it('shows a pending notification already tried as retrying with its next try, and events by name', async () => {
  const retrying = entry({
    id: 3,
    event: 'vm.request.waiting_manager',
    state: 'pending',
    attempts: 2,
    next_attempt_at: '2026-12-04T10:20:30',
    last_error: 'cannot connect to 127.0.0.1:9: connection refused',
  });
  const queued = entry({ id: 4, state: 'pending', attempts: 0, event: 'custom.unknown' });
  mockIPC((cmd) =>
    cmd === 'notify_outbox' ? { entries: [retrying, queued, entry({})], counts: { pending: 2, sending: 0, sent: 1, failed: 0 } } : null,
  );
  act(() =>
    render(
      <ToastProvider>
        <OutboxTable />
      </ToastProvider>,
      document.body,
    ),
  );
  await waitFor(() => document.querySelector('[data-testid=notify-state-cell][data-state=retrying]'));
  const states = [...document.querySelectorAll('[data-testid=notify-state-cell]')].map((e) => (e as HTMLElement).dataset.state);
  expect(states).toEqual(['retrying', 'pending', 'sent']);
  const cell = document.querySelector('[data-state=retrying]')!;
  expect(cell.textContent).toContain('Retrying');
  expect(cell.textContent).toContain('next try 10:20:30');
  expect(document.querySelector('[data-state=pending]')!.textContent).toBe('Queued');
  // Known events by their name, unknown ones by their id.
  expect(document.body.textContent).toContain('Waiting for the manager');
  expect(document.body.textContent).toContain('Cluster degraded');
  expect(document.body.textContent).toContain('custom.unknown');
  // Retry now on the retrying one only (nothing failed here).
  expect(document.querySelectorAll('[data-testid=notify-retry]')).toHaveLength(0);
  expect(document.querySelectorAll('[data-testid=notify-retry-now]')).toHaveLength(1);
});
