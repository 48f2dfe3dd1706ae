// @vitest-environment jsdom
// The Images workspace without a Docker connection (only a registry one):
// it opens on Registries, says no engine is connected with a button to add
// one, leaves out the engine's tabs and buttons, asks the engine nothing,
// browses and scans a registry tag, and its Fleet has no "Scan all". With a
// Docker connection the engine's tabs are there as before.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import { AppStateProvider } from '../../app/store';
import { ToastProvider } from '../../components/Toast';
import { act, flush, waitFor } from '../../util/renderHook';
import { ImagesView } from './ImagesView';
import { CONN } from './registry/testFixtures';

afterEach(() => {
  act(() => render(null, document.body));
  clearMocks();
});


const DOCKER = {
  id: '6f1c2a4e-0000-4000-8000-0000000000d0',
  name: 'local docker',
  spec: { kind: 'docker', endpoint: 'unix:///run/docker.sock' },
  created_at: '2026-12-05T05:00:00Z',
  updated_at: '2026-12-05T05:00:00Z',
};

const $ = <T extends Element = HTMLElement>(s: string) => document.querySelector<T>(s);
const $$ = (s: string) => [...document.querySelectorAll<HTMLElement>(s)];
const tabs = () => $$('[data-testid^=images-tab-]').map((b) => b.dataset.testid);

function backend(connections: unknown[]) {
  const calls: [string, Record<string, unknown>][] = [];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push([cmd, a]);
    switch (cmd) {
      case 'connections_list':
        return connections;
      case 'settings_get':
        return { theme: 'system', language: 'en' };
      case 'images_history':
      case 'images_fleet':
      case 'images_rematch_notes':
        return [];
      case 'images_inventory':
        return { images: [], containers: [] };
      case 'registry_list':
        return [CONN];
      case 'registry_repositories':
        return { names: ['team/api'], pages: 1, truncated: false };
      case 'registry_tags':
        return { names: ['1.0'], pages: 1, truncated: false };
      case 'registry_scan':
        return new Promise(() => {}); // still running: its progress shows
      default:
        return null;
    }
  });
  return calls;
}

function mount() {
  act(() =>
    render(
      <ToastProvider>
        <AppStateProvider>
          <ImagesView />
        </AppStateProvider>
      </ToastProvider>,
      document.body,
    ),
  );
}

it('works with only a registry connection: Registries first, no engine tabs, a tag scanned, closing cancels it', async () => {
  const calls = backend([]);
  mount();
  await waitFor(() => $('[data-testid=registry-browser]'));
  expect($('[data-testid=workspace-empty]')).toBeNull();
  expect($('[data-testid=images-no-engine]')!.textContent).toContain('No Docker engine connected');
  expect($('[data-testid=images-add-docker]')).not.toBeNull();
  expect(tabs()).toEqual(['images-tab-registries', 'images-tab-fleet', 'images-tab-history', 'images-tab-policy']);
  expect($('[data-testid=images-scan-running]')).toBeNull();
  expect($('[data-testid=images-refresh]')).toBeNull();

  // Browse and scan a tag: registry_scan gets a task id, which closing the drawer cancels.
  await waitFor(() => $$('[data-testid=registry-repo-row]').length === 1);
  $<HTMLButtonElement>('[data-testid=registry-repo-open]')!.click();
  await waitFor(() => $$('[data-testid=registry-tag-row]').length === 1);
  $<HTMLButtonElement>('[data-testid=registry-tag-scan]')!.click();
  await waitFor(() => $('[data-testid=scan-progress]'));
  const scan = calls.find(([c]) => c === 'registry_scan')![1];
  expect([scan.id, scan.repository, scan.tag]).toEqual([CONN.id, 'team/api', '1.0']);
  expect(typeof scan.task).toBe('string');
  expect((scan.task as string).length).toBeGreaterThan(0);
  act(() => $<HTMLButtonElement>('[data-testid=scan-drawer] [data-testid=modal-close]')!.click());
  await flush();
  expect($('[data-testid=scan-drawer]')).toBeNull();
  await waitFor(() => calls.some(([c, a]) => c === 'images_cancel' && a.task === scan.task));

  // The Fleet works without an engine, with no "Scan all".
  act(() => $<HTMLButtonElement>('[data-testid=images-tab-fleet]')!.click());
  await waitFor(() => $('[data-testid=images-fleet]'));
  expect($('[data-testid=fleet-scan-all]')).toBeNull();
  // The engine was never asked for.
  expect(calls.filter(([c]) => c.startsWith('images_inventory') || c === 'images_cached' || c === 'images_scan_running')).toEqual([]);
});

it('keeps the engine tabs with a Docker connection', async () => {
  backend([DOCKER]);
  mount();
  await waitFor(() => $('[data-testid=images-tab-images]'));
  expect(tabs()).toEqual(['images-tab-images', 'images-tab-containers', 'images-tab-fleet', 'images-tab-history', 'images-tab-registries', 'images-tab-policy']);
  expect($('[data-testid=images-no-engine]')).toBeNull();
  expect($('[data-testid=images-scan-running]')).not.toBeNull();
});
