// Auto-approval rules per department (`opsdeck vm rules`): a request within a
// rule and the department's quota is filed with its manager step approved by
// the actor `policy:<rule>`. The request shows which rule approved it.
import type { VmRequest } from '../../api/types';

export const POLICY_PREFIX = 'policy:';

/** The rule that approved the request's manager step, or null (a person did, or nobody yet). */
export function approvedByRule(r: Pick<VmRequest, 'decisions'>): string | null {
  const d = r.decisions.find((x) => x.stage === 'manager' && x.approved && x.actor.startsWith(POLICY_PREFIX));
  return d ? d.actor.slice(POLICY_PREFIX.length) : null;
}
