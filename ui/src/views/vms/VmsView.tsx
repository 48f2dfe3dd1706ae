// VMs workspace (vSphere): the request inbox (approve, reject, provision
// with progress), the vCenter inventory (cached for an instant first paint),
// department quotas, the compliance report, and a lifecycle pass on demand.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Connection } from '../../api/types';
import type { VmRequest } from '../../api/types';
import { useCachedThenLive } from '../../app/cachedThenLive';
import { useRememberedConnection } from '../../app/lastConnection';
import { useConnections, useSettings } from '../../app/store';
import { DataTable, type Column } from '../../components/DataTable';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { Icon } from '../../components/Icon';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { Tabs } from '../../components/Tabs';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { NoConnection } from '../workspace/NoConnection';
import { CompliancePanel } from './CompliancePanel';
import { InventoryTab } from './InventoryTab';
import { applyVmEvent, nextAction, sortForInbox, stateBadge } from './model';
import { QuotasPanel } from './QuotasPanel';
import { RequestDialog } from './RequestDialog';
import { RequestDrawer } from './RequestDrawer';
import { StoreBanner } from './StoreBanner';
import { SettingsPanel } from './SettingsPanel';

const LAST_CONNECTION_KEY = 'opsdeck.vms.connection';
type Tab = 'requests' | 'inventory' | 'quotas' | 'compliance' | 'settings';

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
  const [requests, setRequests] = useState<VmRequest[] | null>(null);
  const [reqError, setReqError] = useState<AppError | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [filing, setFiling] = useState(false);
  const [version, setVersion] = useState(0);
  const [editing, setEditing] = useState<VmRequest | null>(null);
  const [lifecycleBusy, setLifecycleBusy] = useState(false);

  const loadRequests = useCallback(() => {
    api.vmsRequests().then(
      (r) => (setRequests(r), setReqError(null)),
      (e) => setReqError(toAppError(e)),
    );
  }, []);

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

  // Live updates while the view is open (stopped on unmount or connection change).
  useEffect(() => {
    let stop: (() => Promise<void>) | null = null;
    let live = true;
    api.vmsWatch(id, (e) => setInventory((inv) => applyVmEvent(inv, e))).then(
      (s) => (live ? (stop = s) : void s()),
      () => {},
    );
    return () => {
      live = false;
      void stop?.();
    };
  }, [id, setInventory]);

  const changed = (r: VmRequest) => {
    setRequests((list) => (list ? list.map((x) => (x.id === r.id ? r : x)) : list));
    if (r.state === 'provisioned') refresh();
  };

  const lifecycle = async () => {
    setLifecycleBusy(true);
    try {
      const actions = await api.vmsLifecycle(id);
      const failed = actions.filter((a) => !a.ok).length;
      toast.push({ kind: failed ? 'error' : 'ok', title: t('vms.lifecycle.done', { count: actions.length, failed }) });
      refresh();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      setLifecycleBusy(false);
    }
  };

  const cols: Column<VmRequest>[] = [
    { id: 'name', header: t('vms.col.name'), cell: (r) => <span class="mono">{r.spec.name}</span>, sortValue: (r) => r.spec.name, filterValue: (r) => `${r.spec.name} ${r.id}` },
    {
      id: 'state',
      header: t('vms.col.state'),
      cell: (r) => <StatusBadge state={stateBadge(r.state)}>{t(`vms.state.${r.state}`)}</StatusBadge>,
      sortValue: (r) => (nextAction(r.state) ? 0 : 1),
      filterValue: (r) => `${r.state} ${t(`vms.state.${r.state}`)}`,
    },
    { id: 'dept', header: t('vms.form.department'), cell: (r) => r.spec.department, sortValue: (r) => r.spec.department, filterValue: (r) => r.spec.department },
    { id: 'size', header: t('vms.detail.size'), cell: (r) => t('vms.detail.sizeValue', { cpu: r.spec.cpu, memory: r.spec.memory_gb, disk: r.spec.disk_gb }), sortValue: (r) => r.spec.cpu },
    { id: 'requester', header: t('vms.col.requester'), cell: (r) => r.requester, sortValue: (r) => r.requester, filterValue: (r) => r.requester },
    { id: 'lease', header: t('vms.form.lease'), cell: (r) => r.spec.lease_end, sortValue: (r) => r.spec.lease_end, class: 'col-time' },
    { id: 'created', header: t('vms.col.created'), cell: (r) => <span title={formatDateTime(r.created_at)}>{formatRelative(r.created_at, settings.language)}</span>, sortValue: (r) => r.created_at, class: 'col-time' },
  ];

  const pending = requests?.filter((r) => nextAction(r.state)).length ?? 0;
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
        <button type="button" class="btn btn-sm" onClick={() => void lifecycle()} disabled={lifecycleBusy} data-testid="vms-lifecycle">
          <Icon name="history" size={14} />
          {t('vms.lifecycle.button')}
        </button>
        <button type="button" class="btn btn-sm btn-primary" onClick={() => setFiling(true)} data-testid="vms-new-request">
          <Icon name="plus" size={14} />
          {t('vms.newRequest')}
        </button>
      </div>
      <Tabs
        tabs={['requests', 'inventory', 'quotas', 'compliance', 'settings'] as const}
        value={tab}
        onChange={setTab}
        testid="vms-tab"
        label={(k) => (
          <>
            {t(`vms.tab.${k}`)}
            {k === 'requests' && pending > 0 && <span class="vm-count">{pending}</span>}
          </>
        )}
      />
      <div class="img-body">
        {tab === 'requests' && <StoreBanner version={version} />}
        {tab === 'requests' && (
          <DataTable
            label={t('vms.tab.requests')}
            columns={cols}
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
        {tab === 'compliance' && <CompliancePanel connId={id} version={version} />}
        {tab === 'settings' && <SettingsPanel onSaved={refresh} />}
      </div>
      {filing && (
        <RequestDialog
          connId={id}
          inventory={inventory}
          onClose={() => setFiling(false)}
          onFiled={(r) => {
            setFiling(false);
            setRequests((list) => [r, ...(list ?? [])]);
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
