// @vitest-environment jsdom
// An import a fault stopped part-way shows its report (counts, committed
// batches with revisions, the unknown batch, keys not written) and resumes by
// giving that report back.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import { act, flush, waitFor } from '../../../util/renderHook';
import { ImportDialog } from './ImportDialog';

afterEach(() => {
  render(null, document.body);
  clearMocks();
});

const plan = { creates: ['a', 'b', 'c'], updates: [], unchanged: 0, total: 3 };
const report = (complete: boolean) => ({
  applied: complete ? 3 : 1,
  batches: complete ? 3 : 1,
  plan,
  kind: 'opsdeck.config.import.report',
  prefix: '/imp/',
  connection: 'prod',
  document_sha256: 'abc',
  committed: [{ index: 1, revision: 41, committed_at: '', adds: 1, changes: 0, removes: 0, keys: ['a'] }],
  unknown: complete ? null : { index: 2, keys: ['b'], why: 'etcd did not answer in time' },
  not_written: complete ? [] : ['c'],
  guards: complete ? {} : { b: 0, c: 0 },
  conflicts: [],
  changed_since_commit: [],
  already_applied: 0,
  written_now: 1,
  interrupted: false,
  complete,
  error: complete ? undefined : 'outcome unknown: batch 2 (1 keys) was sent, then etcd did not answer in time',
});

const click = (testid: string) => act(() => (document.querySelector(`[data-testid=${testid}]`) as HTMLButtonElement).click());

it('shows the partial report and resumes with it', async () => {
  const calls: Record<string, unknown>[] = [];
  mockIPC((cmd, args) => {
    if (cmd === 'config_import_preview') return plan;
    if (cmd === 'config_import') {
      calls.push(args as Record<string, unknown>);
      return report(calls.length > 1);
    }
    return null;
  });
  render(<ImportDialog connId="prod-id" prefix="/imp/" onClose={() => {}} onImported={() => {}} />, document.body);
  const text = document.querySelector('[data-testid=config-import-text]') as HTMLTextAreaElement;
  act(() => {
    text.value = '{"prefix": "/src/", "keys": {"a": "1", "b": "2", "c": "3"}}';
    text.dispatchEvent(new Event('input', { bubbles: true }));
  });
  click('config-import-preview');
  await waitFor(() => document.querySelector('[data-testid=config-import-plan]'));
  click('config-import-apply');
  const banner = await waitFor(() => document.querySelector('[data-testid=config-import-report]'));
  expect(calls[0].previous).toBeNull();
  expect(banner.className).toContain('banner-warn');
  expect(banner.textContent).toContain('1 keys written in 1 transactions; 1 not written');
  expect(banner.textContent).toContain('outcome unknown');
  expect(document.querySelector('[data-testid=config-import-unknown]')?.textContent).toContain('Batch 2 (1 keys)');
  const lines = document.querySelector('[data-testid=config-import-batches]')?.textContent ?? '';
  expect(lines).toContain('batch 1: 1 keys at revision 41');
  expect(lines).toContain('not written: /imp/c');

  click('config-import-resume');
  await flush();
  await waitFor(() => document.querySelector('[data-testid=config-import-report]')?.className.includes('banner-info'));
  expect((calls[1].previous as { committed: unknown[] }).committed).toHaveLength(1);
  expect(document.querySelector('[data-testid=config-import-resume]')).toBeNull();
});
