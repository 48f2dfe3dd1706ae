// English strings of the Overview (overview.*); overview.zh-CN.ts has the same keys.
const overview = {
  me: 'Signed in as {{me}}',
  live: 'live',
  cachedAt: 'cached {{when}}',
  notRead: 'not read yet',
  refreshing: 'Refreshing',
  tile: { vms: 'VMs', clusters: 'Clusters', images: 'Images', config: 'Config changes', activity: 'Recent activity' },
  open: { vms: 'Open VMs', clusters: 'Open Clusters', images: 'Open Images', config: 'Open Config', activity: 'Open the audit log' },
  add: { vms: 'Add a vCenter', clusters: 'Add a Kubernetes connection', images: 'Add a Docker engine', config: 'Add an etcd connection', activity: 'Open the audit log' },
  connect: {
    vms: 'No vCenter is connected. Connect one to see VMs, the requests waiting for you and the leases ending this week.',
    clusters: 'No Kubernetes connection yet. Add a kubeconfig to see every cluster by verdict here.',
    images: 'No Docker engine yet. Add one to see images blocked by policy here.',
    config: 'No etcd connection yet. Add the team’s etcd to see config changes waiting for review.',
    activity: 'Nothing to show.',
  },
  vms: {
    vms: 'VMs ({{on}} on)',
    awaiting: 'waiting for a decision',
    leases: 'leases ending this week',
    failed: 'failed',
    awaitingItem: '{{who}} · {{dept}} · {{state}}',
    leaseItem_one: 'lease ends in {{count}} day ({{day}})',
    leaseItem: 'lease ends in {{count}} days ({{day}})',
    mine_one: 'You have {{count}} request in progress.',
    mine: 'You have {{count}} requests in progress.',
  },
  clusters: { healthy: 'healthy', degraded: 'degraded', unreachable: 'unreachable' },
  images: { images: 'images ({{running}} running)', blocked: 'blocked', warned: 'warned', allowed: 'allowed', risk: 'risk {{risk}}' },
  config: {
    waiting: 'waiting for review',
    mine: 'yours, waiting',
    approved: 'approved, not published',
    item_one: '{{who}} · {{count}} key',
    item: '{{who}} · {{count}} keys',
  },
  activity: {
    team: 'The team’s audit trail (etcd)',
    local: 'This machine’s audit log',
    empty: 'Nothing recorded yet.',
  },
};

export default overview;
