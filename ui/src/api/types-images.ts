// Images workspace (Docker) types, mirroring docs/ipc.md.
import type { EventChannel } from './types';

export type Decision = 'BLOCK' | 'WARN' | 'ALLOW';
export type VulnSeverity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';
export type RiskLevel = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface ImageRow {
  id: string;
  tags: string[];
  digests: string[];
  size: number;
  /** unix seconds */
  created: number;
  containers: number;
}

export interface ContainerRow {
  id: string;
  name: string;
  image: string;
  image_id: string;
  state: string;
  status: string;
}

export interface EngineInventory {
  images: ImageRow[];
  containers: ContainerRow[];
}

export type ScanProgress =
  | { stage: 'inspecting' }
  | { stage: 'reading'; bytes: number; total: number; layers_to_read: number; layers_cached: number }
  | { stage: 'matching'; packages: number }
  | { stage: 'done' };

export type ImageProgress = ScanProgress & { image: string; index: number; total: number };

export interface Package {
  name: string;
  version: string;
  source_name: string | null;
  source_version: string | null;
  arch: string | null;
  scheme: 'dpkg' | 'apk' | 'rpm';
}

export interface Vulnerability {
  package: string;
  source: string | null;
  installed: string;
  fixed: string | null;
  ids: string[];
  severity: VulnSeverity;
  summary: string;
}

export interface Violation {
  policy: 'no-critical-vulnerabilities' | 'require-healthcheck' | 'no-root-user' | 'require-labels';
  details: string;
}

export interface ScanReport {
  image: string;
  image_id: string;
  repo_tags: string[];
  repo_digests: string[];
  created: string | null;
  size: number | null;
  os: { id: string; version_id: string | null; id_like: string[]; pretty_name: string | null } | null;
  config: { user: string | null; healthcheck: string[] | null; labels: Record<string, string> };
  layers: { digest: string; from_cache: boolean }[];
  packages: Package[];
  ecosystem: string | null;
  vulnerabilities: Vulnerability[];
  counts: { critical: number; high: number; medium: number; low: number; unknown: number };
  risk_score: number;
  risk_level: RiskLevel;
  violations: Violation[];
  decision: Decision;
  notes: string[];
  scanned_at: string;
  duration_ms: number;
}

export interface ScanSummary {
  id: number;
  connection_id: string | null;
  image: string;
  image_id: string;
  scanned_at: string;
  decision: Decision;
  risk_score: number;
}

export interface ImageOutcome {
  image: string;
  containers: string[];
  scan: ScanSummary | null;
  error: string | null;
}

export interface Policy {
  no_critical: boolean;
  require_healthcheck: boolean;
  forbid_root: boolean;
  required_labels: string[];
  thresholds: { critical: number; high: number; medium: number };
}

export interface Rematched {
  images: number;
  skipped: number;
  changed: string[];
}

export interface AdvisoryUpdate {
  import: {
    source: string;
    records: number;
    skipped_ecosystems: number;
    malformed: [string, string][];
    by_family: Record<string, number>;
  };
  rematched: Rematched;
}

export type ReportFormat = 'json' | 'sarif' | 'cyclonedx';

export interface Cached<T> {
  fetched_at: string;
  payload: T;
}

export interface ImagesCommands {
  images_inventory: [{ connectionId: string }, EngineInventory];
  images_cached: [{ connectionId: string }, Cached<EngineInventory> | null];
  images_scan: [{ connectionId: string; image: string; task: string; onProgress: EventChannel<ScanProgress> }, { id: number; report: ScanReport }];
  images_scan_running: [{ connectionId: string; task: string; onProgress: EventChannel<ImageProgress> }, ImageOutcome[]];
  images_cancel: [{ task: string }, null];
  images_history: [{ imageId?: string; limit?: number }, ScanSummary[]];
  images_report: [{ id: number }, ScanReport];
  images_export: [{ id: number; format: ReportFormat }, string];
  advisories_import: [{ path: string }, AdvisoryUpdate];
  images_policy: [undefined, Policy];
  images_set_policy: [{ policy: Policy }, Rematched];
}
