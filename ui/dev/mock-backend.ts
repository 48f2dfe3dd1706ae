// DEV ONLY. A fake Tauri backend for `vite --mode mock`, so the UI can be
// developed and screenshotted in a plain browser. src/main.tsx imports it only
// when import.meta.env.MODE === 'mock'; production builds never contain it.
//
// URL query options: ?theme=dark|light|system  ?lang=en|zh-CN  ?empty (no
// connections, empty audit log)  ?delay=ms (latency of every call)  ?broken
// (connections_list and audit_list fail). The config_* commands: dev/mock-etcd.ts.
import { mockIPC } from '@tauri-apps/api/mocks';
import type {
  AppError,
  AuditEntry,
  AuditFilter_Deserialize,
  Connection,
  ConnectionInput_Deserialize,
  ConnectionSpec,
  ConnectionSpec_Deserialize,
  TlsFiles,
  TlsFiles_Deserialize,
  Settings,
  TestOutcome,
} from '../src/api/types';
import { etcdHandlers } from './mock-etcd';
import { installMockBackend, type MockCommands } from '../src/api/client';

const params = new URLSearchParams(location.search);
const delay = Number(params.get('delay') ?? 180);
const empty = params.has('empty');
const broken = params.has('broken');

const now = Date.now();
const ago = (mins: number) => new Date(now - mins * 60_000).toISOString();
const uuid = () => crypto.randomUUID();

let settings: Settings = {
  theme: (params.get('theme') as Settings['theme']) ?? 'system',
  language: (params.get('lang') as Settings['language']) ?? 'en',
};

const ok = (version: string, message: string, latency: number, mins: number): TestOutcome => ({
  ok: true,
  version,
  message,
  error_code: null,
  latency_ms: latency,
  tested_at: ago(mins),
});

let connections: Connection[] = empty
  ? []
  : [
      {
        id: uuid(),
        name: 'prod-vcenter',
        spec: { kind: 'vsphere', url: 'https://vcenter01.corp.example/sdk', username: 'svc-opsdeck@vsphere.local', thumbprint: null },
        has_secret: true,
        created_at: ago(60 * 24 * 30),
        updated_at: ago(60 * 24 * 2),
        last_test: ok('VMware vCenter Server 8.0.3 build-24022515', 'Logged in as svc-opsdeck@vsphere.local; 412 VMs visible.', 214, 12),
      },
      {
        id: uuid(),
        name: 'lab-esxi-07',
        spec: {
          kind: 'vsphere',
          url: 'https://esxi07.lab.example/sdk',
          username: 'root',
          thumbprint: '3f9a1c7be2d04a8f6e5b9c0d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
        },
        has_secret: true,
        created_at: ago(60 * 24 * 9),
        updated_at: ago(60 * 24 * 9),
        last_test: {
          ok: false,
          version: null,
          message:
            'esxi07.lab.example:443 presented a certificate whose SHA-256 thumbprint does not match the pinned one: update the thumbprint if the host certificate was renewed.',
          error_code: 'tls',
          latency_ms: 88,
          tested_at: ago(60 * 5),
        },
      },
      {
        id: uuid(),
        name: 'k8s-prod (all contexts)',
        spec: { kind: 'kubernetes', kubeconfig: '/home/ops/.kube/config', contexts: [] },
        has_secret: false,
        created_at: ago(60 * 24 * 20),
        updated_at: ago(60 * 24 * 20),
        last_test: ok('v1.34.1', 'Reached 3 of 3 contexts: prod-eu-1, prod-us-1, staging.', 301, 45),
      },
      {
        id: uuid(),
        name: 'config-etcd',
        spec: {
          kind: 'etcd',
          endpoints: ['http://10.20.0.11:2379', 'http://10.20.0.12:2379', 'http://10.20.0.13:2379'],
          tls: null,
          username: 'opsdeck',
          allow_plaintext: false,
        },
        has_secret: true,
        created_at: ago(60 * 24 * 3),
        updated_at: ago(60 * 24 * 1),
        last_test: ok('etcd 3.5.17', 'Cluster 6f1c… healthy: 3 members, leader 10.20.0.12.', 19, 3),
      },
      {
        id: uuid(),
        name: 'legacy-etcd',
        spec: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], tls: null, username: null, allow_plaintext: false },
        has_secret: false,
        created_at: ago(60 * 24),
        updated_at: ago(60 * 24),
        last_test: null,
      },
    ];

const actions = ['connection.save', 'connection.test', 'connection.delete', 'settings.set'];
const platforms = ['vsphere', 'docker', 'kubernetes', 'etcd', 'app'] as const;
let audit: AuditEntry[] = empty
  ? []
  : Array.from({ length: 237 }, (_, i): AuditEntry => {
      const platform = platforms[i % 5];
      const action = platform === 'app' ? 'settings.set' : actions[i % 3];
      const failed = i % 7 === 3;
      return {
        id: 237 - i,
        at: ago(i * 37 + 2),
        actor: i % 4 === 0 ? 'li.wei' : 'ops',
        platform,
        target:
          platform === 'vsphere'
            ? 'https://vcenter01.corp.example/sdk'
            : platform === 'docker'
              ? 'tcp://build-07.corp.example:2376'
              : platform === 'kubernetes'
                ? '/home/ops/.kube/config [prod-eu-1]'
                : platform === 'etcd'
                  ? 'http://10.20.0.11:2379,http://10.20.0.12:2379'
                  : 'settings',
        action,
        result: failed ? 'error' : 'ok',
        detail: failed
          ? 'connection refused by 10.20.0.11:2379: is etcd running and reachable from this machine?'
          : action === 'connection.test'
            ? 'ok in 21 ms'
            : action === 'settings.set'
              ? 'theme=dark language=en'
              : 'saved',
      };
    });

function err(code: AppError['code'], message: string): AppError {
  return { code, message };
}

function addAudit(platform: AuditEntry['platform'], target: string, action: string, okResult: boolean, detail: string) {
  const id = (audit[0]?.id ?? 0) + 1;
  audit = [{ id, at: new Date().toISOString(), actor: 'ops', platform, target, action, result: okResult ? 'ok' : 'error', detail }, ...audit];
}

function targetOf(c: Connection): string {
  const s = c.spec;
  return s.kind === 'vsphere' ? s.url : s.kind === 'docker' ? s.host : s.kind === 'kubernetes' ? s.kubeconfig : s.endpoints.join(',');
}

/** The spec as the backend stores it: every field present, endpoints split. */
function normalised(s: ConnectionSpec_Deserialize): ConnectionSpec {
  switch (s.kind) {
    case 'vsphere':
      return { ...s, thumbprint: s.thumbprint ?? null };
    case 'docker':
      return { ...s, tls: s.tls ? tlsFiles(s.tls) : null, allow_plaintext: s.allow_plaintext ?? false };
    case 'kubernetes':
      return { ...s, contexts: s.contexts ?? [] };
    case 'etcd':
      return {
        ...s,
        endpoints: s.endpoints.flatMap((e) => e.split(/[,\s]+/)).filter(Boolean),
        tls: s.tls ? tlsFiles(s.tls) : null,
        username: s.username ?? null,
        allow_plaintext: s.allow_plaintext ?? false,
      };
  }
}

function tlsFiles(t: TlsFiles_Deserialize): TlsFiles {
  return { ca_file: t.ca_file ?? null, cert_file: t.cert_file ?? null, key_file: t.key_file ?? null };
}

function save(input: ConnectionInput_Deserialize): Connection {
  const name = input.name.trim();
  if (!name) throw err('invalid_input', 'name: required');
  if (connections.some((c) => c.name === name && c.id !== input.id)) {
    throw err('invalid_input', `name: "${name}" is already used by another connection`);
  }
  if (name.toLowerCase().includes('keychain')) {
    throw err('keychain', 'OS keychain: the Secret Service is locked; unlock your login keyring and try again');
  }
  const existing = connections.find((c) => c.id === input.id);
  if (input.id && !existing) throw err('not_found', `no connection with id ${input.id}`);
  const spec = normalised(input.spec);
  const c: Connection = {
    id: existing?.id ?? uuid(),
    name,
    spec,
    has_secret: input.clear_secret ? false : input.secret !== null ? true : (existing?.has_secret ?? false),
    created_at: existing?.created_at ?? new Date().toISOString(),
    updated_at: new Date().toISOString(),
    last_test: existing && existing.spec.kind === spec.kind ? existing.last_test : null,
  };
  connections = [...connections.filter((x) => x.id !== c.id), c].sort((a, b) => a.name.localeCompare(b.name));
  addAudit(spec.kind, targetOf(c), 'connection.save', true, existing ? 'updated' : 'created');
  return c;
}

function test(id: string): TestOutcome {
  const c = connections.find((x) => x.id === id);
  if (!c) throw err('not_found', `no connection with id ${id}`);
  const target = targetOf(c);
  let outcome: TestOutcome;
  if (c.name.includes('legacy') || target.includes('127.0.0.1')) {
    outcome = {
      ok: false,
      version: null,
      message: `etcd at 127.0.0.1:2379 refused the connection: is it running?`,
      error_code: 'unreachable',
      latency_ms: 3,
      tested_at: new Date().toISOString(),
    };
  } else {
    const version = { vsphere: 'VMware vCenter Server 8.0.3', docker: 'Docker 27.3.1', kubernetes: 'v1.34.1', etcd: 'etcd 3.4.23' }[c.spec.kind];
    outcome = ok(version, `Reached ${target}.`, 20 + Math.round(Math.random() * 200), 0);
  }
  c.last_test = outcome;
  addAudit(c.spec.kind, target, 'connection.test', outcome.ok, outcome.ok ? `ok in ${outcome.latency_ms} ms` : outcome.message);
  return outcome;
}

function auditList(f: AuditFilter_Deserialize) {
  if (broken) throw err('storage', 'local database: database is locked');
  const text = f.text?.toLowerCase() ?? '';
  const rows = audit.filter(
    (e) =>
      (!f.platform || e.platform === f.platform) &&
      (!f.result || e.result === f.result) &&
      (!text || [e.target, e.action, e.actor, e.detail].some((x) => x.toLowerCase().includes(text))),
  );
  const offset = f.offset ?? 0;
  return { entries: rows.slice(offset, offset + (f.limit ?? 100)), total: rows.length };
}

const mock: MockCommands = {
  appInfo: () => ({
    version: '0.1.0-mock',
    data_dir: '/home/ops/.local/share/opsdeck',
    database: '/home/ops/.local/share/opsdeck/opsdeck.db',
    keychain: 'Secret Service (mock)',
  }),
  settingsGet: () => settings,
  settingsSet: (next) => {
    settings = next;
    addAudit('app', 'settings', 'settings.set', true, `theme=${settings.theme} language=${settings.language}`);
    return settings;
  },
  connectionsList: () => {
    if (broken) throw err('storage', 'local database: unable to open database file /home/ops/.local/share/opsdeck/opsdeck.db');
    return connections;
  },
  connectionSave: (input) => save(input),
  connectionDelete: (id) => {
    const c = connections.find((x) => x.id === id);
    if (!c) throw err('not_found', `no connection with id ${id}`);
    connections = connections.filter((x) => x.id !== id);
    addAudit(c.spec.kind, targetOf(c), 'connection.delete', true, `deleted ${c.name}`);
    return null;
  },
  connectionTest: (id) => test(id),
  kubeContexts: (path) => {
    if (path.includes('missing')) throw err('not_found', `kubeconfig ${path}: no such file`);
    return ['prod-eu-1', 'prod-us-1', 'staging', 'kind-dev'];
  },
  auditList: (filter) => auditList(filter),
  notifySettings: () => ({
    channels: [
      { id: 'c-mail', name: 'ops mail', has_password: true, spec: { kind: 'smtp', host: 'smtp.example.com', port: 587, starttls: true, username: 'opsdeck', from: 'Opsdeck <ops@example.com>', ca_file: null, timeout_secs: 15 } },
      { id: 'c-chat', name: 'ops chat', has_password: true, spec: { kind: 'webhook', url: 'https://hooks.slack.com/…', format: 'slack', ca_file: null, timeout_secs: 15 } },
    ],
    subscriptions: [],
    retry: { max_attempts: 12, backoff_base_ms: 30000, backoff_max_ms: 3600000 },
  }),
  notifyOutbox: () => ({
    entries: [
      { id: 3, event: 'cluster.unreachable', title: 'Cluster prod-eu-1 is unreachable', subscriber: 'ops', channel_id: 'c-chat', recipient: '', state: 'pending', attempts: 2, max_attempts: 12, next_attempt_at: '2026-12-04T10:02:00Z', last_error: 'webhook https://hooks.slack.com/… answered 503 Service Unavailable', created_at: '2026-12-04T10:00:00Z', sent_at: null },
      { id: 2, event: 'vm.request.approved', title: 'Your VM request r20261204-1a2b3c4d is approved: build-01', subscriber: 'alice', channel_id: 'c-mail', recipient: 'alice@example.com', state: 'failed', attempts: 1, max_attempts: 12, next_attempt_at: '2026-12-04T09:31:00Z', last_error: 'SMTP server smtp.example.com:587 refused the login of user "opsdeck" (535 5.7.8 Authentication credentials invalid): check the user and the password in the keychain, then retry', created_at: '2026-12-04T09:30:00Z', sent_at: null },
      { id: 1, event: 'vm.request.waiting_manager', title: 'VM request r20261204-1a2b3c4d waits for your approval (manager of qa)', subscriber: 'bob', channel_id: 'c-mail', recipient: 'bob@example.com', state: 'sent', attempts: 1, max_attempts: 12, next_attempt_at: '2026-12-04T09:00:00Z', last_error: null, created_at: '2026-12-04T09:00:00Z', sent_at: '2026-12-04T09:00:01Z' },
    ],
    counts: { pending: 1, sending: 0, sent: 1, failed: 1 },
  }),
  configChanges: () => ({ changes: [], problems: [], protected: [] }),
  auditTeam: () => {
    throw err('invalid_input', 'no team store is set: choose a shared etcd store in the VM settings');
  },
  ...etcdHandlers({
    params,
    check: (id) => {
      const c = connections.find((x) => x.id === id);
      if (!c || c.spec.kind !== 'etcd') throw err('not_found', `no etcd connection with id ${id}`);
      if (c.name.includes('legacy') || targetOf(c).includes('127.0.0.1'))
        throw err('unreachable', `etcd at 127.0.0.1:2379 refused the connection: is it running?`);
    },
    audit: (target, action, detail) => addAudit('etcd', target, action, true, detail),
    auditFor: (target) => audit.filter((e) => e.platform === 'etcd' && e.target === target),
  }),
};

// The window looks like Tauri's (so Channels work); the calls go to `mock`.
mockIPC(() => {
  throw 'the mock backend answers through installMockBackend';
});
installMockBackend(mock, (name) => (name === 'connectionTest' ? delay + 900 : name === 'configValidate' ? 20 : delay));

console.info('[opsdeck] mock backend active');
