// Notifications: the outbox (what was sent, what waits for a retry, what
// failed, with a retry button) and the channels it sends through.
import { useState } from 'preact/hooks';
import { Tabs } from '../../components/Tabs';
import { useT } from '../../i18n';
import { ChannelsPanel } from './ChannelsPanel';
import { OutboxTable } from './OutboxTable';

type Tab = 'outbox' | 'channels';

export function NotifyView() {
  const t = useT();
  const [tab, setTab] = useState<Tab>('outbox');
  return (
    <section class="view view-notify" data-testid="view-notifications">
      <Tabs tabs={['outbox', 'channels'] as const} value={tab} onChange={setTab} label={(k) => t(`notify.${k}`)} testid="notify-tab" />
      {tab === 'outbox' ? <OutboxTable /> : <ChannelsPanel />}
    </section>
  );
}
