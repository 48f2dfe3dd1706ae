// VMs workspace (vSphere): the request inbox (approve, reject, provision
// with progress), the vCenter inventory (cached for an instant first paint),
// department quotas, the compliance report, and a lifecycle pass on demand.
// State: useCachedThenLive + useVmWatch (inventory), useVmRequests, useLifecycle;
// the tab, the open request, the dialogs and the panels' version here.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client';
import type { Connection, VmRequest } from '../../api/types';
import { useCachedThenLive } from '../../app/cachedThenLive';
import { useRememberedConnection } from '../../app/lastConnection';
import { useConnections, useSettings } from '../../app/store';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { Tabs } from '../../components/Tabs';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { NoConnection } from '../workspace/NoConnection';
import { CompliancePanel } from './CompliancePanel';
import { InventoryTab } from './InventoryTab';
import { LifecyclePreview } from './LifecyclePreview';
import { sortForInbox, waitsForDecision } from './model';
import { QuotasPanel } from './QuotasPanel';
import { RequestDialog } from './RequestDialog';
import { RequestDrawer } from './RequestDrawer';
import { requestColumns } from './requestColumns';
import { SettingsPanel } from './SettingsPanel';
import { ShowbackPanel } from './ShowbackPanel';
import { UtilisationPanel } from './UtilisationPanel';
import { StoreBanner } from './StoreBanner';
import { useLifecycle } from './useLifecycle';
import { useVmRequests } from './useVmRequests';
import { useVmWatch } from './useVmWatch';

const LAST_CONNECTION_KEY = 'opsdeck.vms.connection';
type Tab = 'requests' | 'inventory' | 'quotas' | 'showback' | 'utilisation' | 'compliance' | 'settings';

export function VmsView() {
  const { list } = useConnections();
  const vcenters = list?.filter((c) => c.spec.kind === 'vsphere') ?? null;
  if (!vcenters || vcenters.length === 0) return <NoConnection view="vms" />;
  return <VmsWorkspace connections={vcenters} />;
}

function VmsWorkspace({ connections }: { connections: Connection[] }) {
  const t = useT();
  const toast = useToast();
  const { settings } = useSettings();
  const [conn, choose] = useRememberedConnection(LAST_CONNECTION_KEY, connections);
  const id = conn.id;
  const [tab, setTab] = useState<Tab>('requests');
  const { data: inventory, setData: setInventory, cachedAt, loading: invLoading, error: invError, refresh: refreshInventory } = useCachedThenLive(id, api.vmsCached, api.vmsInventory);
  const { requests, error: reqError, load: loadRequests, replace, prepend } = useVmRequests();
  const [open, setOpen] = useState<string | null>(null);
  const [filing, setFiling] = useState(false);
  const [version, setVersion] = useState(0);
  const [editing, setEditing] = useState<VmRequest | null>(null);
  const [previewing, setPreviewing] = useState(false);

  // The inventory (cached first, then vCenter) reloads itself on a connection
  // change; the requests and the panels reload with it.
  const reloadOthers = useCallback(() => {
    loadRequests();
    setVersion((v) => v + 1);
  }, [loadRequests]);
  useEffect(reloadOthers, [id, reloadOthers]);

  const refresh = useCallback(() => {
    refreshInventory();
    reloadOthers();
  }, [refreshInventory, reloadOthers]);

  useVmWatch(id, setInventory);
  const lifecycle = useLifecycle(id, refresh);

  const changed = (r: VmRequest) => {
    replace(r);
    if (r.state === 'provisioned') refresh();
  };

  const pending = requests?.filter(waitsForDecision).length ?? 0;
  const current = requests?.find((r) => r.id === open) ?? null;
  return (
    <section class="view view-vms" data-testid="view-vms">
      <div class="cfg-toolbar">
        <ConnectionPicker icon="vms" label={t('vms.connection')} connections={connections} value={id} onChange={choose} testid="vms" cachedAt={cachedAt} loading={invLoading} />
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={refresh} data-testid="vms-refresh">
          <Icon name="refresh" size={14} />
          {t('common.refresh')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => setPreviewing(true)} data-testid="vms-lifecycle-preview">
          <Icon name="search" size={14} />
          {t('lifecyclePlan.button')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => void lifecycle.run()} disabled={lifecycle.busy} data-testid="vms-lifecycle">
          <Icon name="history" size={14} />
          {t('vms.lifecycle.button')}
        </button>
        <button type="button" class="btn btn-sm btn-primary" onClick={() => setFiling(true)} data-testid="vms-new-request">
          <Icon name="plus" size={14} />
          {t('vms.newRequest')}
        </button>
      </div>
      <Tabs
        tabs={['requests', 'inventory', 'quotas', 'showback', 'utilisation', 'compliance', 'settings'] as const}
        value={tab}
        onChange={setTab}
        testid="vms-tab"
        label={(k) => (
          <>
            {k === 'showback' ? t('showback.tab') : k === 'utilisation' ? t('utilisation.tab') : t(`vms.tab.${k}`)}
            {k === 'requests' && pending > 0 && <span class="vm-count">{pending}</span>}
          </>
        )}
      />
      <div class="img-body">
        {tab === 'requests' && <StoreBanner version={version} />}
        {tab === 'requests' && (
          <DataTable
            label={t('vms.tab.requests')}
            columns={requestColumns(t, settings.language)}
            rows={requests ? sortForInbox(requests) : null}
            rowKey={(r) => r.id}
            rowAttrs={(r) => ({ 'data-testid': 'vm-request-row', 'data-name': r.spec.name, 'data-state': r.state })}
            error={reqError}
            onRetry={loadRequests}
            filterable
            onActivate={(r) => setOpen(r.id)}
            empty={<div class="dt-state">{t('vms.empty')}</div>}
          />
        )}
        {tab === 'inventory' && <InventoryTab inventory={inventory} loading={invLoading} error={invError} onRetry={refresh} />}
        {tab === 'quotas' && <QuotasPanel connId={id} version={version} />}
        {tab === 'showback' && <ShowbackPanel connId={id} version={version} />}
        {tab === 'utilisation' && <UtilisationPanel connId={id} version={version} />}
        {tab === 'compliance' && <CompliancePanel connId={id} version={version} />}
        {tab === 'settings' && <SettingsPanel onSaved={refresh} />}
      </div>
      {previewing && <LifecyclePreview connId={id} onClose={() => setPreviewing(false)} />}
      {filing && (
        <RequestDialog
          connId={id}
          inventory={inventory}
          onClose={() => setFiling(false)}
          onFiled={(r) => {
            setFiling(false);
            prepend(r);
            toast.push({ kind: r.state === 'rejected' ? 'error' : 'ok', title: t(r.state === 'rejected' ? 'vms.filedRejected' : 'vms.filed', { name: r.spec.name }) });
            setOpen(r.id);
          }}
        />
      )}
      {editing && (
        <RequestDialog
          connId={id}
          inventory={inventory}
          editing={editing}
          onClose={() => setEditing(null)}
          onFiled={(r) => {
            setEditing(null);
            changed(r);
          }}
        />
      )}
      {current && !editing && <RequestDrawer key={current.id} connId={id} request={current} onClose={() => setOpen(null)} onChanged={changed} onEdit={() => setEditing(current)} />}
    </section>
  );
}
