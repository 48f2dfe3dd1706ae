// Thin typed wrapper over Tauri's `invoke`. Every rejection becomes an AppError.
import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  AppError,
  AppInfo,
  AuditFilter,
  TrailFilter,
  TrailReport,
  ChangeList,
  ChangeView,
  AuditPage,
  CommandName,
  CopyItem,
  Commands,
  Connection,
  ConnectionInput,
  ErrorCode,
  ValueFormat,
  WatchEvent,
  Settings,
  TestOutcome,
} from './types';
import type { ClusterHealth } from './types-clusters';
import type { ImageProgress, Policy, ReportFormat, ScanProgress } from './types-images';
import type { ProvisionProgress, Quota, RequestSpec, Stage, StoreStatus, VmEvent, VmRequest, VmSettings } from './types-vms';

const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_input',
  'not_found',
  'unreachable',
  'auth',
  'forbidden',
  'tls',
  'timeout',
  'keychain',
  'storage',
  'unsupported',
  'conflict',
  'internal',
];

export const BACKEND_MISSING_MESSAGE = 'Backend not available — run inside the Opsdeck app';

/** True when the page runs inside the Tauri webview (or under the dev mock). */
export function hasBackend(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as AppError).message === 'string' &&
    typeof (e as AppError).code === 'string'
  );
}

/** Normalises whatever `invoke` rejected with (AppError object, string, Error) to an AppError. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) {
    const code = ERROR_CODES.includes(e.code) ? e.code : 'internal';
    return { code, message: e.message };
  }
  if (typeof e === 'string') return { code: 'internal', message: e };
  if (e instanceof Error) return { code: 'internal', message: e.message };
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return { code: 'internal', message: (e as { message: string }).message };
  }
  return { code: 'internal', message: String(e) };
}

export async function call<C extends CommandName>(
  cmd: C,
  ...args: Commands[C][0] extends undefined ? [] : [Commands[C][0]]
): Promise<Commands[C][1]> {
  if (!hasBackend()) {
    throw { code: 'unsupported', message: BACKEND_MISSING_MESSAGE } satisfies AppError;
  }
  try {
    return await invoke<Commands[C][1]>(cmd, args[0] ?? {});
  } catch (e) {
    throw toAppError(e);
  }
}

/** A stop function for a watch: silences its channel, then unwatches; safe to call twice. */
function stopper<T>(channel: Channel<T>, unwatch: () => Promise<null>): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    channel.onmessage = () => {};
    await unwatch();
  };
}

export const api = {
  appInfo: (): Promise<AppInfo> => call('app_info'),
  settingsGet: (): Promise<Settings> => call('settings_get'),
  settingsSet: (settings: Settings): Promise<Settings> => call('settings_set', { settings }),
  connectionsList: (): Promise<Connection[]> => call('connections_list'),
  connectionSave: (input: ConnectionInput): Promise<Connection> => call('connection_save', { input }),
  connectionDelete: (id: string): Promise<null> => call('connection_delete', { id }),
  connectionTest: (id: string): Promise<TestOutcome> => call('connection_test', { id }),
  kubeContexts: (path: string): Promise<string[]> => call('kube_contexts', { path }),
  vsphereThumbprint: (url: string): Promise<string> => call('vsphere_thumbprint', { url }),
  auditList: (filter: AuditFilter): Promise<AuditPage> => call('audit_list', { filter }),
  auditTeam: (filter: TrailFilter): Promise<TrailReport> => call('audit_team', { filter }),
  configChanges: (connectionId: string): Promise<ChangeList> => call('config_changes', { connectionId }),
  configChangePropose: (connectionId: string, key: string, value: string | null, comment: string): Promise<ChangeView> =>
    call('config_change_propose', { connectionId, key, value, comment }),
  configChangeReview: (connectionId: string, id: string, approved: boolean, comment: string): Promise<ChangeView> =>
    call('config_change_review', { connectionId, id, approved, comment }),
  configChangePublish: (connectionId: string, id: string): Promise<ChangeView> => call('config_change_publish', { connectionId, id }),

  // Config workspace (etcd)
  configTree: (connectionId: string, prefix: string, cursor: string | null, limit: number) =>
    call('config_tree', { connectionId, prefix, cursor, limit }),
  configCount: (connectionId: string, prefix: string) => call('config_count', { connectionId, prefix }),
  configSearch: (connectionId: string, prefix: string, text: string, limit: number) =>
    call('config_search', { connectionId, prefix, text, limit }),
  configGet: (connectionId: string, key: string) => call('config_get', { connectionId, key }),
  configValidate: (value: string, format: ValueFormat | null) => call('config_validate', { value, format }),
  configPut: (
    connectionId: string,
    key: string,
    value: string,
    expectedModRevision: number,
    format: ValueFormat,
    allowInvalid: boolean,
    comment: string,
  ) => call('config_put', { connectionId, key, value, expectedModRevision, format, allowInvalid, comment }),
  configDelete: (connectionId: string, key: string, expectedModRevision: number, comment: string) =>
    call('config_delete', { connectionId, key, expectedModRevision, comment }),
  configDeletePreview: (connectionId: string, prefix: string) => call('config_delete_preview', { connectionId, prefix }),
  configDeletePrefix: (connectionId: string, prefix: string, expectedCount: number, comment: string) =>
    call('config_delete_prefix', { connectionId, prefix, expectedCount, comment }),
  configHistory: (connectionId: string, key: string, limit: number) => call('config_history', { connectionId, key, limit }),
  configRollback: (connectionId: string, key: string, toRevision: number, expectedModRevision: number, comment: string) =>
    call('config_rollback', { connectionId, key, toRevision, expectedModRevision, comment }),
  configCompare: (connectionId: string, left: string, right: string) => call('config_compare', { connectionId, left, right }),
  configCopy: (connectionId: string, from: string, to: string, items: CopyItem[], comment: string) =>
    call('config_copy', { connectionId, from, to, items, comment }),
  configExport: (connectionId: string, prefix: string, format: 'json' | 'yaml') =>
    call('config_export', { connectionId, prefix, format }),
  configImportPreview: (connectionId: string, prefix: string, document: string) =>
    call('config_import_preview', { connectionId, prefix, document }),
  configImport: (connectionId: string, prefix: string, document: string, comment: string) =>
    call('config_import', { connectionId, prefix, document, comment }),
  /**
   * Starts a watch on `prefix`; events arrive on `onEvent`. Resolves to a
   * function that stops it (config_unwatch). Call it when the prefix changes or
   * the view unmounts; stop is safe to call more than once.
   */
  configWatch: async (connectionId: string, prefix: string, onEvent: (e: WatchEvent) => void): Promise<() => Promise<void>> => {
    const channel = new Channel<WatchEvent>(onEvent);
    const watchId = await call('config_watch', { connectionId, prefix, onEvent: channel });
    return stopper(channel, () => call('config_unwatch', { watchId }));
  },

  // Clusters workspace (Kubernetes)
  clustersHealth: (connectionId: string) => call('clusters_health', { connectionId }),
  clustersCached: (connectionId: string) => call('clusters_cached', { connectionId }),
  /** Live health of a connection's clusters; resolves to a stop function (clusters_unwatch). */
  clustersWatch: async (connectionId: string, onEvent: (h: ClusterHealth) => void): Promise<() => Promise<void>> => {
    const channel = new Channel<ClusterHealth>(onEvent);
    const watchId = await call('clusters_watch', { connectionId, onEvent: channel });
    return stopper(channel, () => call('clusters_unwatch', { watchId }));
  },
  clustersDetails: (connectionId: string, context: string) => call('clusters_details', { connectionId, context }),
  clustersApply: (connectionId: string, contexts: string[], manifest: string) => call('clusters_apply', { connectionId, contexts, manifest }),

  // Images workspace (Docker)
  imagesInventory: (connectionId: string) => call('images_inventory', { connectionId }),
  imagesCached: (connectionId: string) => call('images_cached', { connectionId }),
  /** Scans one image; progress arrives on `onProgress`; cancel with imagesCancel(task). */
  imagesScan: (connectionId: string, image: string, task: string, onProgress: (p: ScanProgress) => void) =>
    call('images_scan', { connectionId, image, task, onProgress: new Channel<ScanProgress>(onProgress) }),
  imagesScanRunning: (connectionId: string, task: string, onProgress: (p: ImageProgress) => void) =>
    call('images_scan_running', { connectionId, task, onProgress: new Channel<ImageProgress>(onProgress) }),
  imagesCancel: (task: string) => call('images_cancel', { task }),
  imagesHistory: (imageId?: string, limit = 200) => call('images_history', { imageId, limit }),
  imagesReport: (id: number) => call('images_report', { id }),
  imagesExport: (id: number, format: ReportFormat) => call('images_export', { id, format }),
  advisoriesImport: (path: string) => call('advisories_import', { path }),
  imagesPolicy: () => call('images_policy'),
  imagesSetPolicy: (policy: Policy) => call('images_set_policy', { policy }),

  // VMs workspace (vSphere); the request store is the one in the VM settings.
  vmsSettings: () => call('vms_settings'),
  vmsSetSettings: (settings: VmSettings) => call('vms_set_settings', { settings }),
  vmsInventory: (connectionId: string) => call('vms_inventory', { connectionId }),
  vmsCached: (connectionId: string) => call('vms_cached', { connectionId }),
  /** Live VM updates (WaitForUpdatesEx); resolves to a stop function (vms_unwatch). */
  vmsWatch: async (connectionId: string, onEvent: (e: VmEvent) => void): Promise<() => Promise<void>> => {
    const channel = new Channel<VmEvent>(onEvent);
    const watchId = await call('vms_watch', { connectionId, onEvent: channel });
    return stopper(channel, () => call('vms_unwatch', { watchId }));
  },
  vmsRequests: () => call('vms_requests'),
  vmsSubmit: (connectionId: string, spec: RequestSpec) => call('vms_submit', { connectionId, spec }),
  vmsDecide: (connectionId: string, id: string, stage: Stage, approved: boolean, comment: string) =>
    call('vms_decide', { connectionId, id, stage, approved, comment }),
  vmsStoreStatus: (): Promise<StoreStatus> => call('vms_store_status'),
  vmsWithdraw: (id: string, comment: string): Promise<VmRequest> => call('vms_withdraw', { id, comment }),
  vmsEdit: (connectionId: string, id: string, spec: RequestSpec): Promise<VmRequest> => call('vms_edit', { connectionId, id, spec }),
  vmsExtend: (id: string, leaseEnd: string, reason: string): Promise<VmRequest> => call('vms_extend', { id, leaseEnd, reason }),
  vmsDecideExtension: (id: string, n: number, approved: boolean, comment: string): Promise<VmRequest> =>
    call('vms_decide_extension', { id, n, approved, comment }),
  /** Provisions one request; each step's progress arrives on `onProgress`. */
  vmsProvision: (connectionId: string, id: string, onProgress: (p: ProvisionProgress) => void) =>
    call('vms_provision', { connectionId, id, onProgress: new Channel<ProvisionProgress>(onProgress) }),
  vmsLifecycle: (connectionId: string) => call('vms_lifecycle', { connectionId }),
  vmsCompliance: (connectionId: string) => call('vms_compliance', { connectionId }),
  vmsComplianceExport: (connectionId: string, format: 'csv' | 'json') => call('vms_compliance_export', { connectionId, format }),
  vmsQuotas: (connectionId?: string) => call('vms_quotas', { connectionId }),
  vmsSetQuota: (department: string, quota: Quota) => call('vms_set_quota', { department, quota }),
};
export type Api = typeof api;
