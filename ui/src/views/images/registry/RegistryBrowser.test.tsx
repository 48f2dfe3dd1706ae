// @vitest-environment jsdom
// The Registries tab: no connection → how to start; add with "Test
// connection" (the test's error shown as is), repositories → tags (sorted as
// versions, filtered, keyboard), Scan on a tag runs registry_scan and shows
// the report; a registry error is shown with retry.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import { flush, waitFor } from '../../../util/renderHook';
import { RegistryBrowser } from './RegistryBrowser';
import { CONN } from './testFixtures';

afterEach(() => {
  render(null, document.body);
  clearMocks();
});

const $ = <T extends Element = HTMLElement>(s: string) => document.querySelector<T>(s);
const $$ = (s: string) => [...document.querySelectorAll<HTMLElement>(s)];
const type = async (sel: string, value: string) => {
  const el = $<HTMLInputElement>(sel)!;
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  await flush();
};

it('says how to start without a connection, and adds one after a failed then passing test', async () => {
  const saved: unknown[] = [];
  const tested: unknown[] = [];
  let list: (typeof CONN)[] = [];
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'registry_list') return list;
    if (cmd === 'registry_test') {
      tested.push(a.input);
      return tested.length === 1
        ? { ok: false, version: null, message: 'the registry refused the credentials of user "ci": check the user name and password', error_code: 'auth', latency_ms: 3, tested_at: '', details: [] }
        : { ok: true, version: 'registry/2.0', message: 'registry/2.0 answered; 5 repositories', error_code: null, latency_ms: 4, tested_at: '' };
    }
    if (cmd === 'registry_save') {
      saved.push(a.input);
      list = [CONN];
      return CONN;
    }
    if (cmd === 'registry_repositories') return { names: [], pages: 1, truncated: false };
    return null;
  });
  render(<RegistryBrowser onScanned={() => {}} />, document.body);
  await waitFor(() => $('[data-testid=registry-none]'));
  $<HTMLButtonElement>('[data-testid=registry-add]')!.click();
  await flush();
  // Nothing filled in: the fields say what is missing, nothing is sent.
  $<HTMLButtonElement>('[data-testid=registry-test]')!.click();
  await flush();
  expect(tested).toEqual([]);
  expect($('[data-testid=registry-dialog]')!.textContent).toContain('A name is required.');
  await type('[data-testid=registry-name]', 'team registry');
  await type('[data-testid=registry-url]', 'https://127.0.0.1:5000');
  const auth = $<HTMLSelectElement>('[data-testid=registry-auth]')!;
  auth.value = 'basic';
  auth.dispatchEvent(new Event('change', { bubbles: true }));
  await flush();
  await type('[data-testid=registry-username]', 'ci');
  await type('[data-testid=registry-password]', 'pw');
  await type('[data-testid=registry-caFile]', '/ca.pem');
  $<HTMLButtonElement>('[data-testid=registry-test]')!.click();
  await waitFor(() => $('[data-testid=registry-test-result]'));
  expect($('[data-testid=registry-test-result]')!.dataset.ok).toBe('false');
  expect($('[data-testid=registry-test-result]')!.textContent).toContain('check the user name and password');
  $<HTMLButtonElement>('[data-testid=registry-test]')!.click();
  await waitFor(() => $('[data-testid=registry-test-result][data-ok=true]'));
  expect($('[data-testid=registry-test-result]')!.textContent).toContain('5 repositories');
  $<HTMLButtonElement>('[data-testid=registry-save]')!.click();
  await waitFor(() => !$('[data-testid=registry-dialog]'));
  expect(saved).toEqual([
    { id: null, name: 'team registry', spec: { url: 'https://127.0.0.1:5000', auth: 'basic', username: 'ci', ca_file: '/ca.pem', platform: null }, secret: 'pw' },
  ]);
  await waitFor(() => $('[data-testid=registry-picker]'));
  await waitFor(() => $('[data-testid=registry-repos]')?.textContent?.includes('The registry lists no repository.'));
});

it('browses repositories to tags and scans a tag, showing the report', async () => {
  const scans: unknown[] = [];
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'registry_list') return [CONN];
    if (cmd === 'registry_repositories') return { names: ['browse/app', 'browse/base', 'team/api'], pages: 2, truncated: false };
    if (cmd === 'registry_tags') return a.repository === 'browse/app' ? { names: ['latest', '1.10', '1.9', 'rc-3'], pages: 1, truncated: false } : { names: [], pages: 1, truncated: false };
    if (cmd === 'registry_scan') {
      scans.push([a.id, a.repository, a.tag]);
      return new Promise(() => {}); // still running: the progress is shown
    }
    return null;
  });
  render(<RegistryBrowser onScanned={() => {}} />, document.body);
  await waitFor(() => $$('[data-testid=registry-repo-row]').length === 3);
  expect($('[data-testid=registry-repos]')!.textContent).toContain('3 names, 2 pages');
  // Keyboard: Enter on a repository lists its tags.
  const first = $$('[data-testid=registry-repo-row]')[0];
  first.focus();
  first.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await waitFor(() => $$('[data-testid=registry-tag-row]').length === 4);
  expect($$('[data-testid=registry-tag-row]').map((r) => r.dataset.name)).toEqual(['1.9', '1.10', 'rc-3', 'latest']);
  // One page is "1 page" (the plural follows the page count, not the names').
  expect($$('[data-testid=registry-listing-footer]').map((f) => f.textContent)).toContain('4 names, 1 page');
  $$('[data-testid=registry-tag-row]')[1].querySelector<HTMLButtonElement>('[data-testid=registry-tag-scan]')!.click();
  await waitFor(() => $('[data-testid=scan-progress]'));
  expect(scans).toEqual([[CONN.id, 'browse/app', '1.10']]);
  expect($('[data-testid=scan-drawer]')!.textContent).toContain('127.0.0.1:5000/browse/app:1.10');
});

it('shows a registry error with what to change, and retries', async () => {
  let calls = 0;
  mockIPC((cmd) => {
    if (cmd === 'registry_list') return [CONN];
    if (cmd === 'registry_repositories') {
      calls++;
      if (calls === 1) throw { code: 'tls', message: 'TLS with the registry failed: UnknownIssuer. Set the CA file of registry connection "team registry".' };
      return { names: ['a'], pages: 1, truncated: false };
    }
    return null;
  });
  render(<RegistryBrowser onScanned={() => {}} />, document.body);
  await waitFor(() => $('[data-testid=registry-repos]')?.textContent?.includes('Set the CA file'));
  const retry = [...document.querySelectorAll<HTMLButtonElement>('[data-testid=registry-repos] button')].find((b) => /retry/i.test(b.textContent ?? ''));
  retry!.click();
  await waitFor(() => $$('[data-testid=registry-repo-row]').length === 1);
});

it('shows a newly saved registry at once, not the previous one while the list is read back', async () => {
  const second = { ...CONN, id: '6f1c2a4e-0000-4000-8000-000000000002', name: 'second', host: '127.0.0.1:5001', spec: { ...CONN.spec, url: 'http://127.0.0.1:5001', auth: 'none', username: null, ca_file: null } };
  let listCalls = 0;
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'registry_list') return ++listCalls === 1 ? [CONN] : new Promise(() => {}); // the read-back never answers
    if (cmd === 'registry_save') return second;
    if (cmd === 'registry_repositories') return { names: [a.id === CONN.id ? 'first/app' : 'second/app'], pages: 1, truncated: false };
    if (cmd === 'registry_tags') return { names: ['1'], pages: 1, truncated: false };
    return null;
  });
  render(<RegistryBrowser onScanned={() => {}} />, document.body);
  await waitFor(() => $$('[data-testid=registry-repo-row]').length === 1);
  $('[data-testid=registry-repo-open]')!.click();
  await waitFor(() => $$('[data-testid=registry-tag-row]').length === 1);
  $<HTMLButtonElement>('[data-testid=registry-add]')!.click();
  await flush();
  await type('[data-testid=registry-name]', 'second');
  await type('[data-testid=registry-url]', 'http://127.0.0.1:5001');
  $<HTMLButtonElement>('[data-testid=registry-save]')!.click();
  await waitFor(() => !$('[data-testid=registry-dialog]'));
  expect($('[data-testid=registry-browser]')!.dataset.registry).toBe('second');
  expect($$('[data-testid=registry-tag-row]')).toEqual([]);
  await waitFor(() => $('[data-testid=registry-repo-row][data-name="second/app"]'));
  expect($('[data-testid=registry-repo-row][data-name="first/app"]')).toBeNull();
});
