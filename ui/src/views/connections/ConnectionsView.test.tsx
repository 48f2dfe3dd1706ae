// @vitest-environment jsdom
// Drives the Connections view through the same data-testids the WebDriver
// end-to-end test uses, against a fake IPC backend.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionInput, TestOutcome } from '../../api/types';
import { App } from '../../app/App';

let connections: Connection[];
let saved: ConnectionInput[];
let root: HTMLElement;

const $ = <T extends Element = HTMLElement>(sel: string, from: ParentNode = document) => from.querySelector<T & HTMLElement>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const byId = (id: string) => $(`[data-testid="${id}"]`);

async function waitFor<T>(fn: () => T | null | undefined | false, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${fn.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function type(el: HTMLElement | null, value: string) {
  if (!el) throw new Error('no element');
  (el as HTMLInputElement).value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

function choose(el: HTMLElement | null, value: string) {
  if (!el) throw new Error('no element');
  (el as HTMLSelectElement).value = value;
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

const row = (name: string) => $(`[data-testid="conn-row"][data-name="${name}"]`);

beforeEach(() => {
  connections = [
    {
      id: 'c1',
      name: 'cfg-etcd',
      spec: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], tls: null, username: null, allow_plaintext: false },
      has_secret: false,
      created_at: '2025-01-01T00:00:00Z',
      updated_at: '2025-01-01T00:00:00Z',
      last_test: null,
    },
  ];
  saved = [];
  mockIPC(async (cmd, args) => {
    const a = args as Record<string, unknown>;
    switch (cmd) {
      case 'settings_get':
        return { theme: 'light', language: 'en' };
      case 'app_info':
        return { version: '0.1.0', data_dir: '/d', database: '/d/db', keychain: 'mock' };
      case 'connections_list':
        return connections;
      case 'connection_save': {
        const input = a.input as ConnectionInput;
        saved.push(input);
        if (input.name === 'dup') throw { code: 'invalid_input', message: 'name: "dup" is already used' };
        const c: Connection = {
          id: input.id ?? `id-${saved.length}`,
          name: input.name,
          spec: input.spec,
          has_secret: input.secret !== null,
          created_at: 'now',
          updated_at: 'now',
          last_test: null,
        };
        connections = [...connections.filter((x) => x.id !== c.id), c];
        return c;
      }
      case 'connection_test': {
        await new Promise((r) => setTimeout(r, 50));
        const ok = a.id === 'c1';
        const outcome: TestOutcome = {
          ok,
          version: ok ? 'etcd 3.4.23' : null,
          message: ok ? 'healthy' : 'etcd at 10.9.9.9:2379 refused the connection: is it running?',
          error_code: ok ? null : 'unreachable',
          latency_ms: 4,
          tested_at: new Date().toISOString(),
        };
        return outcome;
      }
      case 'connection_delete':
        connections = connections.filter((x) => x.id !== a.id);
        return null;
      case 'audit_list':
        return { entries: [], total: 0 };
      default:
        throw `unknown command ${cmd}`;
    }
  });
  location.hash = '#/connections';
  root = document.createElement('div');
  document.body.appendChild(root);
  render(<App />, root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  clearMocks();
});

describe('Connections view', () => {
  it('lists connections with the e2e test ids', async () => {
    const r = await waitFor(() => row('cfg-etcd'));
    expect(byId('view-connections')).not.toBeNull();
    expect($('[data-testid="conn-status"]', r)?.dataset.state).toBe('never');
    for (const id of ['conn-test', 'conn-edit', 'conn-delete']) expect($(`[data-testid="${id}"]`, r)).not.toBeNull();
  });

  it('tests a connection: running, then ok with the version', async () => {
    const r = await waitFor(() => row('cfg-etcd'));
    $('[data-testid="conn-test"]', r)!.click();
    await waitFor(() => $('[data-testid="conn-status"]', row('cfg-etcd')!)?.dataset.state === 'running');
    const status = await waitFor(() => {
      const s = $('[data-testid="conn-status"]', row('cfg-etcd')!);
      return s?.dataset.state === 'ok' && s;
    });
    expect(status.textContent).toContain('etcd 3.4.23');
  });

  it('adds an etcd connection, shows it, and a failed test shows the message', async () => {
    await waitFor(() => row('cfg-etcd'));
    byId('add-connection')!.click();
    await waitFor(() => byId('conn-name'));
    choose(byId('conn-kind'), 'etcd');
    type(byId('conn-name'), 'remote-etcd');
    type(byId('conn-etcd-endpoints'), 'http://10.9.9.9:2379');
    byId('conn-save')!.click();
    const r = await waitFor(() => row('remote-etcd'));
    expect(saved.at(-1)).toEqual({
      id: null,
      name: 'remote-etcd',
      spec: { kind: 'etcd', endpoints: ['http://10.9.9.9:2379'], tls: null, username: null, allow_plaintext: false },
      secret: null,
      clear_secret: false,
    });
    expect(byId('conn-form')).toBeNull();
    $('[data-testid="conn-test"]', r)!.click();
    const status = await waitFor(() => {
      const s = $('[data-testid="conn-status"]', row('remote-etcd')!);
      return s?.dataset.state === 'error' && s;
    });
    expect(status.textContent).toContain('refused the connection');
  });

  it('validates inline and shows backend errors in conn-form-error', async () => {
    await waitFor(() => row('cfg-etcd'));
    byId('add-connection')!.click();
    await waitFor(() => byId('conn-name'));
    choose(byId('conn-kind'), 'etcd');
    type(byId('conn-etcd-endpoints'), '127.0.0.1:2379');
    byId('conn-save')!.click();
    const err = await waitFor(() => byId('conn-form-error'));
    expect(err.textContent).toContain('Name is required');
    expect(document.body.textContent).toContain('is not an endpoint');
    expect(saved).toHaveLength(0);

    type(byId('conn-name'), 'dup');
    type(byId('conn-etcd-endpoints'), 'http://127.0.0.1:2379');
    byId('conn-save')!.click();
    await waitFor(() => byId('conn-form-error')?.textContent?.includes('already used'));
    expect(byId('conn-form')).not.toBeNull();
  });

  it('shows kind-specific fields', async () => {
    await waitFor(() => row('cfg-etcd'));
    byId('add-connection')!.click();
    await waitFor(() => byId('conn-kind'));
    const opts = [...byId('conn-kind')!.querySelectorAll('option')].map((o) => o.value);
    expect(opts).toEqual(['vsphere', 'docker', 'kubernetes', 'etcd']);
    choose(byId('conn-kind'), 'vsphere');
    await waitFor(() => byId('conn-vsphere-url'));
    expect(byId('conn-username')).not.toBeNull();
    expect((byId('conn-secret') as HTMLInputElement).type).toBe('password');
    choose(byId('conn-kind'), 'docker');
    await waitFor(() => byId('conn-docker-host'));
    expect(byId('conn-secret')).toBeNull();
    choose(byId('conn-kind'), 'kubernetes');
    await waitFor(() => byId('conn-kubeconfig'));
    expect(byId('conn-secret')).not.toBeNull();
  });

  it('deletes after confirmation', async () => {
    const r = await waitFor(() => row('cfg-etcd'));
    $('[data-testid="conn-delete"]', r)!.click();
    const confirm = await waitFor(() => byId('confirm-delete'));
    expect(row('cfg-etcd')).not.toBeNull();
    confirm.click();
    await waitFor(() => !row('cfg-etcd'));
    expect(connections).toHaveLength(0);
  });

  it('switches views with Ctrl+digit and shows the audit empty state', async () => {
    await waitFor(() => row('cfg-etcd'));
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '6', ctrlKey: true }));
    await waitFor(() => byId('view-audit'));
    await waitFor(() => byId('audit-empty'));
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '1', ctrlKey: true }));
    await waitFor(() => byId('view-vms'));
    expect(byId('workspace-empty')?.textContent).toContain('Add a vCenter connection');
    byId('workspace-add')!.click();
    await waitFor(() => byId('view-connections'));
    const kind = await waitFor(() => byId('conn-kind') as HTMLSelectElement | null);
    expect(kind.value).toBe('vsphere');
    expect($$('[data-testid^="nav-"]').map((n) => n.dataset.testid)).toEqual([
      'nav-overview',
      'nav-vms',
      'nav-images',
      'nav-clusters',
      'nav-config',
      'nav-connections',
      'nav-audit',
      'nav-notifications',
      'nav-settings',
    ]);
  });
});
