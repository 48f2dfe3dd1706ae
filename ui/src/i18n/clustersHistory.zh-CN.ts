// 集群健康时间线（clustersHistory.*）的中文字符串；键与 clustersHistory.en.ts 相同。
const clustersHistory = {
  tab: '历史',
  first: '首次记录',
  none: '—',
  empty: '尚未记录任何结论变化。实时视图、检查或 opsdeck health 看到的每次变化都会保存在这里（保留 90 天，每个集群最多 500 条）。',
  col: {
    time: '时间',
    change: '变化',
    source: '来源',
    appeared: '新出现的问题',
    cleared: '已消除的问题',
  },
  source: {
    live: '实时视图',
    check: '检查',
    cli: '命令行',
  },
};
export default clustersHistory;
