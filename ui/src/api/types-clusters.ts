// Clusters workspace (Kubernetes) types, mirroring docs/ipc.md.
import type { EventChannel } from './types';
import type { Cached } from './types-images';

export type FindingSeverity = 'info' | 'warning' | 'critical';
export type ClusterVerdict = 'healthy' | 'degraded' | 'unreachable';

export interface Finding {
  severity: FindingSeverity;
  kind: 'api' | 'node' | 'pod' | 'workload' | 'event' | 'forbidden' | string;
  object: string;
  message: string;
}

export interface ClusterHealth {
  context: string;
  verdict: ClusterVerdict;
  version: string | null;
  latency_ms: number | null;
  nodes: { total: number; ready: number; cordoned: number; pressure: number };
  findings: Finding[];
  checked_at: string;
  /** the kubeconfig turns TLS verification off for this cluster */
  insecure_tls?: boolean;
}

export interface NodeRow {
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  cordoned: boolean;
  pressure: string[];
  kubelet_version: string | null;
  roles: string[];
  age_seconds: number | null;
  cpu_percent: number | null;
  memory_percent: number | null;
}

export interface PodRow {
  namespace: string;
  name: string;
  phase: string;
  reason: string | null;
  restarts: number;
  last_state: string | null;
  node: string | null;
}

export interface EventRow {
  namespace: string;
  object: string;
  reason: string;
  message: string;
  count: number;
  last_seen: string | null;
}

export interface ClusterDetails {
  context: string;
  nodes: NodeRow[];
  failing_pods: PodRow[];
  warnings: EventRow[];
  metrics_available: boolean;
  forbidden: string[];
}

export interface AppliedObject {
  kind: string;
  namespace: string | null;
  name: string;
  action: 'created' | 'configured' | 'unchanged' | 'failed';
  error: string | null;
}

export interface Rollout {
  namespace: string;
  name: string;
  desired: number;
  updated: number;
  available: number;
  done: boolean;
}

export interface ApplyResult {
  context: string;
  ok: boolean;
  error: string | null;
  objects: AppliedObject[];
  rollouts: Rollout[];
}

export interface ClustersCommands {
  clusters_health: [{ connectionId: string }, ClusterHealth[]];
  clusters_cached: [{ connectionId: string }, Cached<ClusterHealth[]> | null];
  clusters_watch: [{ connectionId: string; onEvent: EventChannel<ClusterHealth> }, number];
  clusters_unwatch: [{ watchId: number }, null];
  clusters_details: [{ connectionId: string; context: string }, ClusterDetails];
  clusters_apply: [{ connectionId: string; contexts: string[]; manifest: string }, ApplyResult[]];
}
