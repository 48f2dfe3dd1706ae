// English strings of the lifecycle preview (lifecyclePlan.*), the app's
// `opsdeck vm lifecycle --dry-run`; lifecyclePlan.zh-CN.ts has the same keys.
const lifecyclePlan = {
  button: 'Preview lifecycle',
  title: 'Preview of a lifecycle pass',
  at: 'Pass on',
  atHint: 'Noon UTC of that day; look ahead to see what a later pass does. Nothing is changed.',
  preview: 'Preview',
  summary: '{{steps}} steps at {{at}}',
  nothing: 'Nothing is due at {{at}}: no snapshot, warning, power-off or destroy.',
  departments: 'Capacity each department gets back',
  steps: 'What the pass would do',
  col: {
    vm: 'VM',
    department: 'Department',
    action: 'Action',
    detail: 'Why',
    frees: 'Gives back',
    poweredOff: 'Powered off (running)',
    reclaimed: 'Destroyed (quota)',
  },
  action: {
    snapshot: 'Snapshot',
    snapshot_removed: 'Remove old snapshot',
    lease_warning: 'Warn of lease end',
    power_off: 'Power off',
    reclaim: 'Destroy',
    vm_missing: 'VM gone',
    ip_release: 'Release IP address',
  },
  capacity: '{{vms}} VMs · {{vcpu}} vCPU · {{memory}} GB memory · {{disk}} GB disk',
  running: '{{vms}} VMs · {{vcpu}} vCPU · {{memory}} GB memory',
  none: '—',
};

export default lifecyclePlan;
