// English strings of a cluster's health timeline (clustersHistory.*); clustersHistory.zh-CN.ts has the same keys.
const clustersHistory = {
  tab: 'History',
  first: 'first seen',
  none: '—',
  empty: 'No verdict change recorded yet. Every change seen by the live view, a check or opsdeck health is kept here (90 days, 500 per cluster).',
  col: {
    time: 'Time',
    change: 'Change',
    source: 'Seen by',
    appeared: 'Findings appeared',
    cleared: 'Findings cleared',
  },
  source: {
    live: 'Live view',
    check: 'Check',
    cli: 'CLI',
  },
};
export default clustersHistory;
