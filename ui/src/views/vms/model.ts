// Pure helpers of the VMs workspace (tested in model.test.ts).
import type { BadgeState } from '../../components/StatusBadge';
import type { Inventory, ProvisionProgress, Quota, RequestSpec, RequestState, Usage, VmEvent, VmRequest } from '../../api/types';

export const STEPS: readonly ProvisionProgress['step'][] = ['lock', 'place', 'clone', 'configure', 'power_on', 'guest', 'snapshot'];

export function stateBadge(s: RequestState): BadgeState {
  switch (s) {
    case 'provisioned':
      return 'ok';
    case 'provisioning':
      return 'running';
    case 'failed':
    case 'rejected':
      return 'error';
    case 'pending_manager':
    case 'pending_admin':
    case 'expired':
      return 'warn';
    case 'approved':
      return 'info';
    case 'reclaimed':
    case 'withdrawn':
      return 'never';
  }
}

/** What the operator can do next with a request. */
export type NextAction = 'approve_manager' | 'approve_admin' | 'provision' | 'retry' | null;

/**
 * `failure`: the request's failure text; on a `provisioning` request it says
 * the last attempt was interrupted (its lock released), which a retry resumes.
 */
export function nextAction(s: RequestState, failure?: string | null): NextAction {
  switch (s) {
    case 'provisioning':
      return failure ? 'retry' : null;
    case 'pending_manager':
      return 'approve_manager';
    case 'pending_admin':
      return 'approve_admin';
    case 'approved':
      return 'provision';
    case 'failed':
      return 'retry';
    default:
      return null;
  }
}

/** Whether the request waits for someone's decision: a step of the chain, or a lease extension asked for. */
export function waitsForDecision(r: Pick<VmRequest, 'state' | 'failure' | 'extensions'>): boolean {
  return nextAction(r.state, r.failure) !== null || r.extensions.some((e) => e.state === 'pending');
}

/** Overall 0..100 across the provisioning steps (each step an equal share; clone counts triple). */
export function provisionPercent(p: ProvisionProgress | null): number {
  if (!p) return 0;
  const weights = [1, 1, 3, 1, 1, 1, 1];
  const total = weights.reduce((a, b) => a + b, 0);
  const i = STEPS.indexOf(p.step);
  if (i < 0) return 0;
  const before = weights.slice(0, i).reduce((a, b) => a + b, 0);
  return Math.round(((before + (weights[i] * Math.min(100, Math.max(0, p.percent))) / 100) / total) * 100);
}

export type FormErrors = Partial<Record<keyof RequestSpec, string>>;

const NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DEPT = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Client-side checks mirroring the backend (which checks again): keys are i18n message ids. */
export function validateForm(s: RequestSpec, today: string, limits = { max_cpu: 32, max_memory_gb: 256, max_disk_gb: 4096, max_lease_days: 365 }): FormErrors {
  const e: FormErrors = {};
  if (!s.name.trim()) e.name = 'vms.form.err.required';
  else if (!NAME.test(s.name.trim())) e.name = 'vms.form.err.name';
  if (!s.template) e.template = 'vms.form.err.required';
  if (!(s.cpu >= 1 && s.cpu <= limits.max_cpu)) e.cpu = 'vms.form.err.range';
  if (!(s.memory_gb >= 1 && s.memory_gb <= limits.max_memory_gb)) e.memory_gb = 'vms.form.err.range';
  if (!(s.disk_gb >= 1 && s.disk_gb <= limits.max_disk_gb)) e.disk_gb = 'vms.form.err.range';
  if (!DEPT.test(s.department.trim())) e.department = 'vms.form.err.department';
  if (!s.purpose.trim()) e.purpose = 'vms.form.err.required';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s.lease_end)) e.lease_end = 'vms.form.err.date';
  else if (s.lease_end < today) e.lease_end = 'vms.form.err.past';
  else if (daysBetween(today, s.lease_end) > limits.max_lease_days) e.lease_end = 'vms.form.err.tooFar';
  return e;
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** "3 / 10" with 0 meaning no limit; the fraction used (0..1+) or null when unlimited. */
export function quotaUse(used: number, limit: number): { text: string; fraction: number | null } {
  return limit === 0 ? { text: `${used} / ∞`, fraction: null } : { text: `${used} / ${limit}`, fraction: used / limit };
}

export function quotaCells(q: { quota: Quota; usage: Usage }) {
  return (['vms', 'vcpu', 'memory_gb', 'disk_gb'] as const).map((k) => ({ key: k, ...quotaUse(q.usage[k], q.quota[k]) }));
}

/** Requests needing someone's action first, then newest. */
export function sortForInbox(list: VmRequest[]): VmRequest[] {
  const rank = (r: VmRequest) => (waitsForDecision(r) ? 0 : 1);
  return [...list].sort((a, b) => rank(a) - rank(b) || b.created_at.localeCompare(a.created_at));
}

/**
 * Applies a batch of live events (one vCenter update set, up to 100 VMs)
 * to the inventory in one pass, in order: a changed VM keeps its
 * place, a new one is appended, a removed one dropped. A new object when
 * something changed (the view re-renders once per batch), else `inv` itself.
 */
export function applyVmEvents(inv: Inventory | null, events: readonly VmEvent[]): Inventory | null {
  if (!inv || events.every((e) => e.kind === 'error')) return inv;
  const byId = new Map(inv.vms.map((v) => [v.id, v]));
  for (const e of events) {
    if (e.kind === 'upsert') byId.set(e.vm.id, e.vm);
    else if (e.kind === 'removed') byId.delete(e.id);
  }
  return { ...inv, vms: [...byId.values()] };
}
