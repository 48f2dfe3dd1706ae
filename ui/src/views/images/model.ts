// Pure helpers of the Images workspace (tested in model.test.ts).
import type { BadgeState } from '../../components/StatusBadge';
import type { GateDecision, ImageRow, ScanProgress, ScanSummary, VulnSeverity } from '../../api/types';

export const SEVERITY_ORDER: readonly VulnSeverity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

/** Sort key: CRITICAL first. */
export function severityRank(s: VulnSeverity): number {
  const i = SEVERITY_ORDER.indexOf(s);
  return i < 0 ? SEVERITY_ORDER.length : i;
}

export function decisionBadge(d: GateDecision): BadgeState {
  return d === 'BLOCK' ? 'error' : d === 'WARN' ? 'warn' : 'ok';
}

export function severityBadge(s: VulnSeverity): BadgeState {
  return s === 'CRITICAL' || s === 'HIGH' ? 'error' : s === 'MEDIUM' ? 'warn' : 'info';
}

/** 0..100 for a progress bar, or null when indeterminate. */
export function progressPercent(p: ScanProgress | null): number | null {
  if (!p) return null;
  switch (p.stage) {
    case 'inspecting':
      return 2;
    case 'reading':
      return p.total > 0 ? Math.min(95, 5 + Math.round((p.bytes / p.total) * 85)) : null;
    case 'matching':
      return 95;
    case 'done':
      return 100;
  }
}

/** "1.2 GB", "340 MB", "12 kB" (decimal units, as docker images prints). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** The name to scan an image by: its first tag, else its id. */
export function imageRef(row: ImageRow): string {
  return row.tags[0] ?? row.id;
}

/** `sha256:0123456789ab…` → `0123456789ab`. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Newest scan per image id, from a newest-first history. */
export function latestByImage(history: ScanSummary[]): Map<string, ScanSummary> {
  const out = new Map<string, ScanSummary>();
  for (const s of history) if (!out.has(s.image_id)) out.set(s.image_id, s);
  return out;
}

/** Parses the required-labels field: comma or whitespace separated, unique, non-empty. */
export function parseLabels(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    const l = part.trim();
    if (l && !out.includes(l)) out.push(l);
  }
  return out;
}

/** A task id the backend accepts (letters, digits, '-'). */
export function newTaskId(): string {
  return `scan-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A ref callback that sets an element's width in percent (CSSOM, allowed by the CSP). */
export function widthRef(pct: number) {
  return (el: HTMLElement | null) => {
    if (el) el.style.width = `${pct}%`;
  };
}
