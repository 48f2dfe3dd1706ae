// English strings of the auto-approval rules (vmRules.*): the badge on a
// request and the rules panel; vmRules.zh-CN.ts has the same keys.
const vmRules = {
  badge: 'Auto-approved by rule {{rule}}',
  badgeHint: 'The manager step was approved by this department rule when the request was filed (within the rule and the quota). The IT admin still decides.',
  title: 'Auto-approval rules',
  intro: 'A request at most this large, within its department’s quota, skips the manager. Removing or changing a rule never changes requests already filed.',
  empty: 'No rules: every request waits for its department’s manager.',
  add: 'Add rule',
  replace: 'Replace the rule of that name',
  remove: 'Remove',
  removed: 'Rule {{name}} of {{department}} removed',
  saved: 'Rule {{name}} of {{department}} saved',
  col: {
    department: 'Department',
    name: 'Rule',
    limits: 'At most',
    addedBy: 'Added by',
  },
  field: {
    department: 'Department',
    name: 'Name',
    maxCpu: 'Max vCPU',
    maxMemory: 'Max memory (GB)',
    maxDisk: 'Max disk (GB)',
    templates: 'Only templates (comma-separated, empty = any)',
    networks: 'Only networks (comma-separated, empty = any)',
  },
};
export default vmRules;
