// English strings of the Images workspace's Fleet tab (images.fleet.*); imagesFleet.zh-CN.ts has the same keys.
const fleet = {
  scanAll: 'Scan all images',
  empty: 'No image scanned yet. Scan all images of this engine, or one from the Images tab.',
  filter: 'Filter by decision',
  naTitle: 'Could not be assessed: finding nothing says nothing. The policy decides {{decision}}.',
  suppressedTitle: '{{live}} findings suppressed; {{expired}} suppressions expired (their findings count again)',
  done_one: 'Scanned {{count}} image: {{blocked}} blocked, {{failed}} failed',
  done: 'Scanned {{count}} images: {{blocked}} blocked, {{failed}} failed',
  status: { BLOCK: 'BLOCK', WARN: 'WARN', ALLOW: 'ALLOW', NOT_ASSESSED: 'NOT ASSESSED' },
  col: {
    tags: 'Tags',
    critical: 'Critical',
    high: 'High',
    medium: 'Medium',
    low: 'Low',
    unknown: 'Unknown',
    suppressed: 'Suppressed',
    asOf: 'Advisories as of',
  },
  note: {
    head_one: '{{count}} image changed ({{images}} re-matched, {{skipped}} need a new scan)',
    head: '{{count}} images changed ({{images}} re-matched, {{skipped}} need a new scan)',
    new: 'new: {{ids}}',
    fixed: 'fixed: {{ids}}',
    notAssessed: 'now not assessed: {{reasons}}',
    latest_one: 'Last update ({{when}}): {{cause}} — {{count}} image changed',
    latest: 'Last update ({{when}}): {{cause}} — {{count}} images changed',
    open: 'All updates ({{count}})',
    title: 'What advisory and policy updates changed',
  },
};

export default fleet;
