import type { ClustersCommands } from './types-clusters';
import type { ImagesCommands } from './types-images';
import type { VmsCommands } from './types-vms';
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
  | 'conflict'
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
  /** accept tcp:// without TLS to another machine (opted in, warned) */
  allow_plaintext?: boolean;
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
  /** accept sending the password over http:// to another machine (opted in, warned) */
  allow_plaintext?: boolean;
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

/** A config change request on a protected prefix (edit → review → publish). */
export type ChangeState = 'pending' | 'approved' | 'rejected' | 'stale' | 'published';

export interface ChangeOp {
  key: string;
  /** null deletes the key */
  value: string | null;
  base_revision: number;
  base_value: string | null;
}

export interface ChangeView {
  id: string;
  author: string;
  created_at: string;
  comment: string;
  ops: ChangeOp[];
  state: ChangeState;
  review: { reviewer: string; approved: boolean; at: string; comment: string; change_revision: number } | null;
  published: { publisher: string; at: string; change_revision: number } | null;
  moved: string[];
  notes: string[];
  revision: number;
}

export interface ChangeList {
  changes: ChangeView[];
  problems: { key: string; reason: string }[];
  protected: string[];
}

/** One entry of the team's hash-chained audit trail in its etcd. */
export interface TrailEntry {
  seq: number;
  prev: string;
  at: string;
  /** The etcd user who made the change. */
  user: string;
  platform: string;
  target: string;
  action: string;
  result: AuditResult;
  detail: string;
  hash: string;
  key: string;
}

export interface ChainBreak {
  seq: number;
  reason: string;
}

export interface TrailFilter {
  user: string | null;
  platform: string | null;
  target: string | null;
  since: string | null;
  until: string | null;
}

export interface TrailReport {
  entries: TrailEntry[];
  breaks: ChainBreak[];
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

// ---- Config workspace (etcd) ------------------------------------------------

export interface KeyMeta {
  key: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  /** 0 = none */
  lease: number;
}

export interface TreeEntry {
  /** last segment, e.g. "db" for "/app/prod/db" (dirs end without the slash) */
  name: string;
  /** full key; for a dir, the dir prefix ending with "/" */
  key: string;
  is_dir: boolean;
  /** leaves only */
  meta: KeyMeta | null;
}

export interface TreePage {
  prefix: string;
  entries: TreeEntry[];
  next_cursor: string | null;
  revision: number;
}

export type ValueFormat = 'json' | 'yaml' | 'toml' | 'plain' | 'binary';
export const EDITABLE_FORMATS: readonly ValueFormat[] = ['json', 'yaml', 'toml', 'plain'];

export interface KeyValue {
  meta: KeyMeta;
  value: string;
  /** detected */
  format: ValueFormat;
  /** bytes */
  size: number;
  /** seconds left when the key has a lease */
  lease_ttl: number | null;
  /** store revision of the read */
  revision: number;
}

export interface Validation {
  format: ValueFormat;
  ok: boolean;
  error: string | null;
  line: number | null;
  column: number | null;
}

export type WriteResult =
  | { status: 'written'; meta: KeyMeta; revision: number }
  /** current null: the key was deleted meanwhile */
  | { status: 'conflict'; current: KeyValue | null };

export interface HistoryEntry {
  mod_revision: number;
  version: number;
  /** null = deleted at this revision */
  value: string | null;
  format: ValueFormat;
}

export interface History {
  key: string;
  /** newest first, starting with the current value */
  entries: HistoryEntry[];
  /** etcd compacted history: revisions below this are gone */
  compacted_at: number | null;
  /** the limit was hit before the key's creation */
  truncated: boolean;
  /** Opsdeck's own audit entries for this key (who/why), newest first */
  audit: AuditEntry[];
}

/** A key to copy, with the revisions the user compared (0 = absent on that side). */
export interface CopyItem {
  rel: string;
  left_mod_revision: number;
  right_mod_revision: number;
}

export interface DiffItem {
  /** key relative to the prefix */
  rel: string;
  left: string | null;
  right: string | null;
  left_mod_revision: number;
  right_mod_revision: number;
}

export interface PrefixDiff {
  left: string;
  right: string;
  only_left: DiffItem[];
  only_right: DiffItem[];
  different: DiffItem[];
  same: number;
}

export interface CopyReport {
  copied: number;
  /** rels that changed meanwhile, nothing written */
  conflicts: string[];
}

export interface ImportPlan {
  creates: string[];
  updates: string[];
  unchanged: number;
  total: number;
}

export interface ImportReport {
  applied: number;
  batches: number;
  plan: ImportPlan;
}

export interface DeletePreview {
  count: number;
  /** first 20 keys */
  sample: string[];
}

export type WatchEvent =
  | { type: 'put'; key: string; meta: KeyMeta; value: string | null }
  | { type: 'delete'; key: string; mod_revision: number }
  | { type: 'error'; message: string }
  | { type: 'compacted'; compact_revision: number };

/** The Channel passed as `onEvent` to config_watch (structural: keeps this file free of runtime imports). */
export interface EventChannel<T> {
  id: number;
  onmessage: (message: T) => void;
}

/** Command name → [args, result]. The single source for the typed client. */
export interface Commands extends ImagesCommands, ClustersCommands, VmsCommands {
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
  audit_team: [{ filter: TrailFilter }, TrailReport];
  config_changes: [{ connectionId: string }, ChangeList];
  config_change_propose: [{ connectionId: string; key: string; value: string | null; comment: string }, ChangeView];
  config_change_review: [{ connectionId: string; id: string; approved: boolean; comment: string }, ChangeView];
  config_change_publish: [{ connectionId: string; id: string }, ChangeView];
  config_tree: [{ connectionId: string; prefix: string; cursor: string | null; limit: number }, TreePage];
  config_count: [{ connectionId: string; prefix: string }, number];
  config_search: [{ connectionId: string; prefix: string; text: string; limit: number }, TreeEntry[]];
  config_get: [{ connectionId: string; key: string }, KeyValue];
  config_validate: [{ value: string; format: ValueFormat | null }, Validation];
  config_put: [
    {
      connectionId: string;
      key: string;
      value: string;
      expectedModRevision: number;
      format: ValueFormat;
      allowInvalid: boolean;
      comment: string;
    },
    WriteResult,
  ];
  config_delete: [{ connectionId: string; key: string; expectedModRevision: number; comment: string }, WriteResult];
  config_delete_preview: [{ connectionId: string; prefix: string }, DeletePreview];
  config_delete_prefix: [{ connectionId: string; prefix: string; expectedCount: number; comment: string }, { deleted: number }];
  config_history: [{ connectionId: string; key: string; limit: number }, History];
  config_rollback: [
    { connectionId: string; key: string; toRevision: number; expectedModRevision: number; comment: string },
    WriteResult,
  ];
  config_compare: [{ connectionId: string; left: string; right: string }, PrefixDiff];
  config_copy: [{ connectionId: string; from: string; to: string; items: CopyItem[]; comment: string }, CopyReport];
  config_export: [{ connectionId: string; prefix: string; format: 'json' | 'yaml' }, string];
  config_import_preview: [{ connectionId: string; prefix: string; document: string }, ImportPlan];
  config_import: [{ connectionId: string; prefix: string; document: string; comment: string }, ImportReport];
  config_watch: [{ connectionId: string; prefix: string; onEvent: EventChannel<WatchEvent> }, number];
  config_unwatch: [{ watchId: number }, null];
}
export type CommandName = keyof Commands;
