// Pure helpers of the Fleet view (tested in fleet.test.ts): the status an
// image is shown with, the decision filter and its counts.
import type { BadgeState } from '../../components/StatusBadge';
import type { FleetImage, ImageChange } from '../../api/types';

/** What the fleet filters by: the decision, with "not assessed" on its own. */
export type FleetStatus = 'BLOCK' | 'WARN' | 'NOT_ASSESSED' | 'ALLOW';
export const FLEET_STATUSES: readonly FleetStatus[] = ['BLOCK', 'NOT_ASSESSED', 'WARN', 'ALLOW'];

export function fleetStatus(r: Pick<FleetImage, 'decision' | 'not_assessed'>): FleetStatus {
  return r.not_assessed ? 'NOT_ASSESSED' : r.decision;
}

/** Not assessed is red like BLOCK: finding nothing there says nothing. */
export function statusBadge(s: FleetStatus): BadgeState {
  return s === 'BLOCK' || s === 'NOT_ASSESSED' ? 'error' : s === 'WARN' ? 'warn' : 'ok';
}

/** Sort key: the worst first (BLOCK, NOT ASSESSED, WARN, ALLOW). */
export function statusRank(s: FleetStatus): number {
  return FLEET_STATUSES.indexOf(s);
}

/** Images per status. */
export function statusCounts(rows: FleetImage[]): Record<FleetStatus, number> {
  const out: Record<FleetStatus, number> = { BLOCK: 0, NOT_ASSESSED: 0, WARN: 0, ALLOW: 0 };
  for (const r of rows) out[fleetStatus(r)]++;
  return out;
}

/** The rows of the chosen statuses (all when none is chosen). */
export function filterByStatus(rows: FleetImage[], chosen: ReadonlySet<FleetStatus>): FleetImage[] {
  return chosen.size === 0 ? rows : rows.filter((r) => chosen.has(fleetStatus(r)));
}

/** The statuses before and after a re-match. */
export function changeStatuses(c: ImageChange): [FleetStatus, FleetStatus] {
  return [fleetStatus({ decision: c.before, not_assessed: c.before_not_assessed }), fleetStatus({ decision: c.after, not_assessed: c.after_not_assessed })];
}
