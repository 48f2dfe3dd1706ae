// Pure logic of the blue/green and failover panels (tested in bluegreen.test.ts):
// the deploy's steps from its events, whether a switch back or a clean-up
// may be offered (and why not), and whether a failover may run or fail back.
import type { BlueGreenEvent, BlueGreenStatus, BlueGreenStep, ClusterVerdict, FailoverPlan, RolloutState, StepState } from '../../api/types';
import type { BadgeState } from '../../components/StatusBadge';

export const STEPS: readonly BlueGreenStep[] = ['deploy', 'ready', 'smoke', 'switch'];

export type StepView = { state: StepState | 'pending'; message: string };
export type Steps = Record<BlueGreenStep, StepView>;

export const pendingSteps = (): Steps => ({
  deploy: { state: 'pending', message: '' },
  ready: { state: 'pending', message: '' },
  smoke: { state: 'pending', message: '' },
  switch: { state: 'pending', message: '' },
});

/** Folds an event into the steps: the latest message of a step wins. */
export function foldStep(steps: Steps, e: BlueGreenEvent): Steps {
  return { ...steps, [e.step]: { state: e.state, message: e.message } };
}

export function stepBadge(state: StepView['state']): BadgeState {
  switch (state) {
    case 'done':
      return 'ok';
    case 'failed':
      return 'error';
    case 'running':
      return 'running';
    case 'skipped':
      return 'info';
    default:
      return 'never';
  }
}

export const readySummary = (r: RolloutState) => `${r.updated}/${r.desired} updated, ${r.available} available`;

/** Why something cannot be done now (an i18n key and its values), or null when it can. */
export type Refusal = { key: string; values?: Record<string, string> } | null;

/** A switch back needs a previous colour whose Deployment is still there and ready. */
export function switchBackRefusal(st: BlueGreenStatus): Refusal {
  if (!st.previous) return { key: 'bluegreen.why.noPrevious' };
  const c = st.colours.find((x) => x.colour === st.previous);
  if (!c) return { key: 'bluegreen.why.previousGone', values: { colour: st.previous } };
  if (!c.ready) return { key: 'bluegreen.why.previousNotReady', values: { colour: st.previous, ready: readySummary(c.rollout) } };
  return null;
}

/** A clean-up needs a previous colour whose keep time has passed. */
export function cleanupRefusal(st: BlueGreenStatus, now: Date): Refusal {
  if (!st.previous) return { key: 'bluegreen.why.noPrevious' };
  if (st.keep_until && Date.parse(st.keep_until) > now.getTime()) return { key: 'bluegreen.why.kept', values: { colour: st.previous, until: st.keep_until } };
  return null;
}

/** A failover runs when the source is not healthy and every marked workload has a target. */
export function runRefusal(plan: FailoverPlan): Refusal {
  if (!plan.needed) return { key: 'failover.why.healthy', values: { source: plan.source } };
  if (plan.placements.length === 0) return { key: 'failover.why.nothingMarked', values: { source: plan.source } };
  const none = plan.placements.filter((p) => !p.target);
  if (none.length > 0) return { key: 'failover.why.noTarget', values: { workloads: none.map((p) => `${p.namespace}/${p.name}`).join(', ') } };
  return null;
}

/** A failback needs the source healthy again (its live verdict). */
export function failbackRefusal(source: string, verdict: ClusterVerdict | null): Refusal {
  if (verdict === 'healthy') return null;
  return { key: 'failover.why.sourceNotHealthy', values: { source, verdict: verdict ?? 'unknown' } };
}

/** Cores of millicores, as the plan's reasons write them (up to two decimals). */
export const cores = (milli: number) => `${Number((milli / 1000).toFixed(2))}`;
/** GiB of bytes, one decimal. */
export const gib = (bytes: number) => (bytes / 1_073_741_824).toFixed(1);
