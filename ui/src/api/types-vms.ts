// VMs workspace (vSphere) types, mirroring docs/ipc.md.
import type { EventChannel } from './types';
import type { Cached } from './types-images';

export type SnapshotSchedule = 'none' | 'daily' | 'weekly';
export type RequestState =
  | 'pending_manager'
  | 'pending_admin'
  | 'approved'
  | 'provisioning'
  | 'provisioned'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'reclaimed'
  | 'withdrawn';
export type Stage = 'manager' | 'admin';

export interface RequestSpec {
  name: string;
  template: string;
  cpu: number;
  memory_gb: number;
  disk_gb: number;
  network: string;
  folder: string;
  resource_pool: string;
  department: string;
  purpose: string;
  lease_end: string;
  snapshot_schedule: SnapshotSchedule;
  customization_script: string;
}

export interface Decision {
  stage: Stage;
  approved: boolean;
  actor: string;
  at: string;
  comment: string;
}

export interface Transition {
  at: string;
  actor: string;
  from: RequestState | null;
  to: RequestState;
  comment: string;
}

export interface Asset {
  vm_id: string;
  name: string;
  host: string;
  datastore: string;
  snapshot: string;
  provisioned_at: string;
  lease_warned_at: string | null;
  powered_off_at: string | null;
  reclaimed_at: string | null;
}

export interface VmRequest {
  id: string;
  spec: RequestSpec;
  requester: string;
  created_at: string;
  state: RequestState;
  quota: { ok: boolean; lines: string[] };
  decisions: Decision[];
  history: Transition[];
  asset: Asset | null;
  failure: string | null;
  attempts: number;
  version: number;
  /** What the store found wrong with this request's records and ignored. */
  notes: string[];
  /** Lease extensions asked for (approved ones are already in spec.lease_end). */
  extensions: Extension[];
}

export interface Quota {
  vms: number;
  vcpu: number;
  memory_gb: number;
  disk_gb: number;
  /** Longest total lease in days, extensions included (0 = no limit). */
  max_lease_days?: number;
}

/** What the chosen request store proves, and the records it skipped. */
export interface StoreStatus {
  trust: 'personal' | 'shared' | 'shared_no_auth';
  problems: { key: string; reason: string }[];
}

export interface Extension {
  n: number;
  lease_end: string;
  reason: string;
  at: string;
  state: 'pending' | 'approved' | 'rejected';
  decision: Decision | null;
}

export interface DepartmentQuota {
  department: string;
  quota: Quota;
  usage: Quota;
}

export interface SnapshotRow {
  id: string;
  name: string;
  created: string;
}

export interface VmRow {
  id: string;
  name: string;
  power: string;
  template: boolean;
  tools: string;
  cpu: number;
  memory_mb: number;
  committed_bytes: number;
  host: string;
  datastores: string[];
  folder: string;
  pool: string;
  annotation: string;
  snapshots: SnapshotRow[];
  boot_time: string | null;
}

export interface HostRow {
  id: string;
  name: string;
  compute: string;
  connected: boolean;
  maintenance: boolean;
  cpu_usage_mhz: number;
  cpu_total_mhz: number;
  cpu_threads: number;
  memory_usage_mb: number;
  memory_total_mb: number;
  vm_count: number;
  datastores: string[];
}

export interface DatastoreRow {
  id: string;
  name: string;
  capacity_bytes: number;
  free_bytes: number;
  accessible: boolean;
}

export interface NamedRow {
  id: string;
  name: string;
  parent: string;
}

export interface Inventory {
  vms: VmRow[];
  hosts: HostRow[];
  datastores: DatastoreRow[];
  networks: NamedRow[];
  folders: NamedRow[];
  pools: NamedRow[];
  computes: { id: string; name: string; root_pool: string }[];
  datacenters: NamedRow[];
}

export interface ProvisionProgress {
  request: string;
  step: 'lock' | 'place' | 'clone' | 'configure' | 'power_on' | 'snapshot';
  percent: number;
}

export interface LifecycleAction {
  request: string;
  vm: string;
  action: string;
  ok: boolean;
  detail: string;
}

export interface ComplianceFinding {
  vm: string;
  vm_id: string;
  rule: 'tools_not_running' | 'too_many_snapshots' | 'old_snapshot' | 'powered_off_long';
  detail: string;
  owner: string;
  department: string;
}

export type StoreChoice = { kind: 'local' } | { kind: 'etcd'; connection_id: string; prefix: string; allow_no_auth: boolean };

export interface VmSettings {
  store: StoreChoice;
  limits: { max_cpu: number; max_memory_gb: number; max_disk_gb: number; max_lease_days: number };
  lifecycle: { retention_days: number; warn_days: number; grace_days: number };
  compliance: { max_snapshots: number; max_snapshot_age_days: number; max_powered_off_days: number };
}

export type VmEvent = { kind: 'upsert'; vm: VmRow } | { kind: 'removed'; id: string } | { kind: 'error'; message: string };

export interface VmsCommands {
  vms_watch: [{ connectionId: string; onEvent: EventChannel<VmEvent> }, number];
  vms_unwatch: [{ watchId: number }, null];
  vms_settings: [undefined, VmSettings];
  vms_set_settings: [{ settings: VmSettings }, null];
  vms_inventory: [{ connectionId: string }, Inventory];
  vms_cached: [{ connectionId: string }, Cached<Inventory> | null];
  vms_requests: [undefined, VmRequest[]];
  vms_submit: [{ connectionId: string; spec: RequestSpec }, VmRequest];
  vms_decide: [{ connectionId: string; id: string; stage: Stage; approved: boolean; comment: string }, VmRequest];
  vms_store_status: [undefined, StoreStatus];
  vms_withdraw: [{ id: string; comment: string }, VmRequest];
  vms_edit: [{ connectionId: string; id: string; spec: RequestSpec }, VmRequest];
  vms_extend: [{ id: string; leaseEnd: string; reason: string }, VmRequest];
  vms_decide_extension: [{ id: string; n: number; approved: boolean; comment: string }, VmRequest];
  vms_provision: [{ connectionId: string; id: string; onProgress: EventChannel<ProvisionProgress> }, VmRequest];
  vms_lifecycle: [{ connectionId: string }, LifecycleAction[]];
  vms_compliance: [{ connectionId: string }, ComplianceFinding[]];
  vms_compliance_export: [{ connectionId: string; format: 'csv' | 'json' }, string];
  vms_quotas: [{ connectionId?: string }, DepartmentQuota[]];
  vms_set_quota: [{ department: string; quota: Quota }, null];
}
