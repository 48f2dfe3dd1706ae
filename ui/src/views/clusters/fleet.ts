// Pure helpers of the fleet workloads view and of capacity figures: which
// cell of the side-by-side table drifts from the rest, what a context that
// could not be read shows (never "missing"), and capacity as text.
import type { Capacity, FleetPlacement, FleetReport, FleetWorkload } from '../../api/types';

/** What one context's cell of a workload row shows. */
export type FleetCell =
  | { kind: 'placement'; placement: FleetPlacement; imageOdd: boolean; replicaOdd: boolean }
  | { kind: 'missing' }
  | { kind: 'unread'; message: string };

/** The most common value (ties: the first seen), or null for none. */
function usual<T>(values: T[]): T | null {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | null = null;
  let n = 0;
  for (const [v, c] of counts) {
    if (c > n) {
      best = v;
      n = c;
    }
  }
  return best;
}

const imageKey = (p: FleetPlacement) => p.images.join('\n');

/** Every context of the report, read or not, in a stable order (read ones first, as the backend lists them). */
export function fleetContexts(report: FleetReport): string[] {
  return [...report.contexts, ...report.errors.map((e) => e.context).filter((c) => !report.contexts.includes(c))];
}

/** The cell of `context` in a workload's row: its placement (flagged where it differs from the usual one), missing, or unread. */
export function fleetCell(report: FleetReport, w: FleetWorkload, context: string): FleetCell {
  const p = w.placements.find((x) => x.context === context);
  if (p) {
    const images = usual(w.placements.map(imageKey));
    const replicas = usual(w.placements.map((x) => x.replicas));
    return { kind: 'placement', placement: p, imageOdd: w.image_drift && imageKey(p) !== images, replicaOdd: w.replica_drift && p.replicas !== replicas };
  }
  const err = report.errors.find((e) => e.context === context);
  if (err) return { kind: 'unread', message: err.message };
  return { kind: 'missing' };
}

export const drifted = (w: FleetWorkload) => w.image_drift || w.replica_drift || w.missing.length > 0;

/** Sort key of the drift column: more kinds of drift first. */
export const driftRank = (w: FleetWorkload) => (w.image_drift ? 4 : 0) + (w.replica_drift ? 2 : 0) + (w.missing.length > 0 ? 1 : 0);

/** Text the filter matches: name, namespace, images, contexts. */
export function fleetFilterText(w: FleetWorkload): string {
  return [w.namespace, w.name, ...w.placements.flatMap((p) => [p.context, ...p.images]), ...w.missing].join(' ');
}

/** "web:1.2" of "web=registry.local/web:1.2" (the container name is shown in the title). */
export function imageTag(entry: string): string {
  const image = entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : entry;
  return image.slice(image.lastIndexOf('/') + 1);
}

/** Millicores as cores: "2", "1.75". */
export function cores(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : (milli / 1000).toFixed(2).replace(/0$/, '');
}

/** Bytes as GiB with one decimal ("12.0"), or MiB below 1 GiB. */
export function memory(bytes: number): string {
  const gib = bytes / 1073741824;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${Math.round(bytes / 1048576)} MiB`;
}

/** Requested share of allocatable, 0–100+ (rounded), or null when nothing is allocatable. */
export function percent(requested: number, allocatable: number): number | null {
  return allocatable > 0 ? Math.round((requested / allocatable) * 100) : null;
}

/** ok under 70 %, warn to 90 %, error above (or nothing allocatable while something is requested). */
export function pressure(c: Capacity): 'ok' | 'warn' | 'error' {
  const worst = Math.max(percent(c.cpu_requested_milli, c.cpu_allocatable_milli) ?? 0, percent(c.memory_requested, c.memory_allocatable) ?? 0);
  if (c.nodes === 0) return 'error';
  return worst > 90 ? 'error' : worst >= 70 ? 'warn' : 'ok';
}
