// Types of the IPC contract with the Rust backend: docs/ipc.md (keep in sync).
// Payload fields are snake_case (serde defaults); command arguments are camelCase.

export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'unreachable'
  | 'auth'
  | 'forbidden'
  | 'tls'
  | 'timeout'
  | 'keychain'
  | 'storage'
  | 'unsupported'
  | 'internal';

/** What every failing command rejects with. `message` is English and actionable. */
export interface AppError {
  code: ErrorCode;
  message: string;
}

export type Kind = 'vsphere' | 'docker' | 'kubernetes' | 'etcd';
export const KINDS: readonly Kind[] = ['vsphere', 'docker', 'kubernetes', 'etcd'];

export interface TlsFiles {
  ca_file: string | null;
  cert_file: string | null;
  key_file: string | null;
}

export interface VsphereSpec {
  kind: 'vsphere';
  /** like https://vc.example/sdk */
  url: string;
  username: string;
  /** SHA-256 of the server certificate (pinning); null = verify with the system CA store */
  thumbprint: string | null;
}
export interface DockerSpec {
  kind: 'docker';
  /** unix:///run/docker.sock | tcp://h:2376 | https://h:2376 */
  host: string;
  tls: TlsFiles | null;
}
export interface KubernetesSpec {
  kind: 'kubernetes';
  kubeconfig: string;
  /** [] = all contexts of the file */
  contexts: string[];
}
export interface EtcdSpec {
  kind: 'etcd';
  endpoints: string[];
  tls: TlsFiles | null;
  username: string | null;
}
export type ConnectionSpec = VsphereSpec | DockerSpec | KubernetesSpec | EtcdSpec;

export interface TestOutcome {
  ok: boolean;
  /** "etcd 3.4.23", "Docker 20.10.24", "v1.34.1", "VMware vCenter Server 8.0..." */
  version: string | null;
  /** human summary: what was checked or what failed and what to do */
  message: string;
  error_code: ErrorCode | null;
  latency_ms: number;
  /** RFC 3339 */
  tested_at: string;
}

export interface Connection {
  id: string;
  /** unique, 1..64 chars */
  name: string;
  spec: ConnectionSpec;
  /** a password/token is stored in the OS keychain (never sent to the UI) */
  has_secret: boolean;
  created_at: string;
  updated_at: string;
  last_test: TestOutcome | null;
}

export interface ConnectionInput {
  /** null = create */
  id: string | null;
  name: string;
  spec: ConnectionSpec;
  /** null = keep the stored secret unchanged; "" is rejected; a string = store it */
  secret: string | null;
  /** true = delete the stored secret */
  clear_secret: boolean;
}

export type AuditPlatform = Kind | 'app';
export type AuditResult = 'ok' | 'error';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  platform: AuditPlatform;
  target: string;
  action: string;
  result: AuditResult;
  detail: string;
}

export interface AuditFilter {
  platform: string | null;
  result: AuditResult | null;
  text: string | null;
  limit: number;
  offset: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  total: number;
}

export type ThemeSetting = 'system' | 'light' | 'dark';
export type Language = 'en' | 'zh-CN';

export interface Settings {
  theme: ThemeSetting;
  language: Language;
}

export interface AppInfo {
  version: string;
  data_dir: string;
  database: string;
  keychain: string;
}

/** Command name → [args, result]. The single source for the typed client. */
export interface Commands {
  app_info: [undefined, AppInfo];
  settings_get: [undefined, Settings];
  settings_set: [{ settings: Settings }, Settings];
  connections_list: [undefined, Connection[]];
  connection_save: [{ input: ConnectionInput }, Connection];
  connection_delete: [{ id: string }, null];
  connection_test: [{ id: string }, TestOutcome];
  kube_contexts: [{ path: string }, string[]];
  vsphere_thumbprint: [{ url: string }, string];
  audit_list: [{ filter: AuditFilter }, AuditPage];
}
export type CommandName = keyof Commands;
