// 镜像工作区"镜像群"页签的简体中文文案（images.fleet.*），与 imagesFleet.en.ts 键相同。
const fleet = {
  scanAll: '扫描全部镜像',
  empty: '尚未扫描任何镜像。可扫描该引擎的全部镜像，或在"镜像"页签中扫描单个镜像。',
  filter: '按结论筛选',
  naTitle: '无法评估：没有发现问题并不代表安全。策略结论为 {{decision}}。',
  suppressedTitle: '已豁免 {{live}} 个发现；{{expired}} 条豁免已过期（其发现重新计入）',
  done_one: '已扫描 {{count}} 个镜像：阻止 {{blocked}} 个，失败 {{failed}} 个',
  done: '已扫描 {{count}} 个镜像：阻止 {{blocked}} 个，失败 {{failed}} 个',
  status: { BLOCK: '阻止', WARN: '警告', ALLOW: '允许', NOT_ASSESSED: '未评估' },
  col: {
    tags: '标签',
    critical: '严重',
    high: '高危',
    medium: '中危',
    low: '低危',
    unknown: '未知',
    suppressed: '已豁免',
    asOf: '漏洞库时间',
  },
  note: {
    head_one: '{{count}} 个镜像有变化（重新匹配 {{images}} 个，{{skipped}} 个需重新扫描）',
    head: '{{count}} 个镜像有变化（重新匹配 {{images}} 个，{{skipped}} 个需重新扫描）',
    new: '新增：{{ids}}',
    fixed: '已修复：{{ids}}',
    notAssessed: '现无法评估：{{reasons}}',
    latest_one: '最近更新（{{when}}）：{{cause}} — {{count}} 个镜像有变化',
    latest: '最近更新（{{when}}）：{{cause}} — {{count}} 个镜像有变化',
    open: '全部更新记录（{{count}}）',
    title: '漏洞库与策略更新带来的变化',
  },
};

export default fleet;
