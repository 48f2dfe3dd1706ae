// 自动审批规则（vmRules.*）的中文文案：申请上的标记与规则面板；键与 vmRules.en.ts 相同。
const vmRules = {
  badge: '已由规则 {{rule}} 自动审批',
  badgeHint: '提交申请时，该部门规则已批准经理审批环节（在规则与配额范围内）。仍需 IT 管理员审批。',
  title: '自动审批规则',
  intro: '不超过以下规格且在部门配额内的申请将跳过经理审批。删除或修改规则不会改变已提交的申请。',
  empty: '暂无规则：所有申请都需部门经理审批。',
  add: '添加规则',
  replace: '替换同名规则',
  remove: '删除',
  removed: '已删除部门 {{department}} 的规则 {{name}}',
  saved: '已保存部门 {{department}} 的规则 {{name}}',
  col: {
    department: '部门',
    name: '规则',
    limits: '上限',
    addedBy: '添加者',
  },
  field: {
    department: '部门',
    name: '名称',
    maxCpu: '最大 vCPU',
    maxMemory: '最大内存（GB）',
    maxDisk: '最大磁盘（GB）',
    templates: '仅限模板（逗号分隔，留空为任意）',
    networks: '仅限网络（逗号分隔，留空为任意）',
  },
};
export default vmRules;
