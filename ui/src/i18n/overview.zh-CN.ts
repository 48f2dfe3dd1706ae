// 概览的中文文案 (overview.*)，与 overview.en.ts 的键相同。
const overview = {
  me: '当前用户：{{me}}',
  live: '实时',
  cachedAt: '缓存于{{when}}',
  notRead: '尚未读取',
  refreshing: '正在刷新',
  tile: { vms: '虚拟机', clusters: '集群', images: '镜像', config: '配置变更', activity: '最近活动' },
  open: { vms: '打开虚拟机', clusters: '打开集群', images: '打开镜像', config: '打开配置', activity: '打开审计日志' },
  add: { vms: '添加 vCenter', clusters: '添加 Kubernetes 连接', images: '添加 Docker 引擎', config: '添加 etcd 连接', activity: '打开审计日志' },
  connect: {
    vms: '尚未连接 vCenter。连接后可在此查看虚拟机、等待您处理的申请以及本周到期的租期。',
    clusters: '尚无 Kubernetes 连接。添加 kubeconfig 后可在此按结论查看所有集群。',
    images: '尚无 Docker 引擎。添加后可在此查看被策略阻止的镜像。',
    config: '尚无 etcd 连接。添加团队的 etcd 后可在此查看等待审核的配置变更。',
    activity: '暂无内容。',
  },
  vms: {
    vms: '台虚拟机（{{on}} 台运行）',
    awaiting: '等待审批',
    leases: '本周租期到期',
    failed: '失败',
    awaitingItem: '{{who}} 申请 · {{dept}} · {{state}}',
    leaseItem_one: '租期 {{count}} 天后结束（{{day}}）',
    leaseItem: '租期 {{count}} 天后结束（{{day}}）',
    mine_one: '您有 {{count}} 个申请正在进行中。',
    mine: '您有 {{count}} 个申请正在进行中。',
  },
  clusters: { healthy: '健康', degraded: '降级', unreachable: '不可达' },
  images: { images: '个镜像（{{running}} 个运行中）', blocked: '已阻止', warned: '警告', allowed: '允许', risk: '风险 {{risk}}' },
  config: {
    waiting: '等待审核',
    mine: '您提交的、等待中',
    approved: '已批准、未发布',
    item_one: '{{who}} · {{count}} 个键',
    item: '{{who}} · {{count}} 个键',
  },
  activity: {
    team: '团队审计链（etcd）',
    local: '本机审计日志',
    empty: '尚无记录。',
  },
};

export default overview;
