// 生命周期预览（lifecyclePlan.*，即应用里的 `opsdeck vm lifecycle --dry-run`）的中文字符串；键与 lifecyclePlan.en.ts 相同。
const lifecyclePlan = {
  button: '预览生命周期',
  title: '生命周期处理预览',
  at: '处理日期',
  atHint: '按该日 UTC 中午计算；可选择以后的日期预先查看。不会做任何更改。',
  preview: '预览',
  summary: '{{at}} 共 {{steps}} 个步骤',
  nothing: '{{at}} 没有到期的操作：无快照、提醒、关机或销毁。',
  departments: '各部门收回的容量',
  steps: '本次处理将执行的操作',
  col: {
    vm: '虚拟机',
    department: '部门',
    action: '操作',
    detail: '原因',
    frees: '收回',
    poweredOff: '已关机（运行容量）',
    reclaimed: '已销毁（配额）',
  },
  action: {
    snapshot: '创建快照',
    snapshot_removed: '删除旧快照',
    lease_warning: '租期到期提醒',
    power_off: '关机',
    reclaim: '销毁',
    vm_missing: '虚拟机已不存在',
    ip_release: '释放 IP 地址',
  },
  capacity: '{{vms}} 台 · {{vcpu}} vCPU · {{memory}} GB 内存 · {{disk}} GB 磁盘',
  running: '{{vms}} 台 · {{vcpu}} vCPU · {{memory}} GB 内存',
  none: '—',
};

export default lifecyclePlan;
