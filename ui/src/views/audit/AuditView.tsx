// The audit view: this machine's log, or the team's hash-chained trail in
// its etcd (every member's changes, attributed to their etcd user).
import { useState } from 'preact/hooks';
import { Tabs } from '../../components/Tabs';
import { useT } from '../../i18n';
import { LocalLog } from './LocalLog';
import { TeamTrail } from './TeamTrail';

type Tab = 'local' | 'team';

export function AuditView() {
  const t = useT();
  const [tab, setTab] = useState<Tab>('local');
  return (
    <section class="view" data-testid="view-audit">
      <Tabs tabs={['local', 'team'] as const} value={tab} onChange={setTab} label={(k) => t(`audit.tab.${k}`)} testid="audit-tab" />
      {tab === 'local' ? <LocalLog /> : <TeamTrail />}
    </section>
  );
}
