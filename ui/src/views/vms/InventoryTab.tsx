// vCenter inventory: VMs (power, tools, size, host, snapshots), hosts (load),
// datastores (space); dense sortable tables.
import { useState } from 'preact/hooks';
import type { AppError } from '../../api/types';
import type { DatastoreRow, HostRow, Inventory, VmRow } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { formatSize } from '../images/model';

type Sub = 'vms' | 'hosts' | 'datastores';

export function InventoryTab({ inventory, loading, error, onRetry }: { inventory: Inventory | null; loading: boolean; error: AppError | null; onRetry: () => void }) {
  const t = useT();
  const [sub, setSub] = useState<Sub>('vms');
  const hostName = (id: string) => inventory?.hosts.find((h) => h.id === id)?.name ?? id;
  const vmCols: Column<VmRow>[] = [
    { id: 'name', header: t('vms.inv.name'), cell: (v) => <span class="mono">{v.name}</span>, sortValue: (v) => v.name, filterValue: (v) => `${v.name} ${v.annotation}` },
    {
      id: 'power',
      header: t('vms.inv.power'),
      cell: (v) => (v.template ? <StatusBadge state="info">{t('vms.inv.template')}</StatusBadge> : <StatusBadge state={v.power === 'poweredOn' ? 'ok' : 'never'}>{v.power}</StatusBadge>),
      sortValue: (v) => (v.template ? 'template' : v.power),
      filterValue: (v) => (v.template ? 'template' : v.power),
    },
    { id: 'cpu', header: t('vms.inv.cpu'), cell: (v) => v.cpu, sortValue: (v) => v.cpu, class: 'col-num' },
    { id: 'memory', header: t('vms.inv.memory'), cell: (v) => `${v.memory_mb} MB`, sortValue: (v) => v.memory_mb, class: 'col-num' },
    { id: 'host', header: t('vms.inv.host'), cell: (v) => hostName(v.host), sortValue: (v) => hostName(v.host), filterValue: (v) => hostName(v.host) },
    { id: 'snapshots', header: t('vms.inv.snapshots'), cell: (v) => v.snapshots.length, sortValue: (v) => v.snapshots.length, class: 'col-num' },
    { id: 'tools', header: t('vms.inv.tools'), cell: (v) => <span class="muted">{v.tools}</span>, sortValue: (v) => v.tools },
  ];
  const hostCols: Column<HostRow>[] = [
    { id: 'name', header: t('vms.inv.host'), cell: (h) => <span class="mono">{h.name}</span>, sortValue: (h) => h.name, filterValue: (h) => h.name },
    { id: 'state', header: t('vms.inv.state'), cell: (h) => <StatusBadge state={h.connected && !h.maintenance ? 'ok' : 'warn'}>{h.maintenance ? t('vms.inv.maintenance') : h.connected ? t('vms.inv.connected') : t('vms.inv.disconnected')}</StatusBadge> },
    { id: 'cpu', header: t('vms.inv.cpuUse'), cell: (h) => `${h.cpu_usage_mhz} / ${h.cpu_total_mhz} MHz`, sortValue: (h) => (h.cpu_total_mhz ? h.cpu_usage_mhz / h.cpu_total_mhz : 0), class: 'col-num' },
    { id: 'mem', header: t('vms.inv.memUse'), cell: (h) => `${h.memory_usage_mb} / ${h.memory_total_mb} MB`, sortValue: (h) => (h.memory_total_mb ? h.memory_usage_mb / h.memory_total_mb : 0), class: 'col-num' },
    { id: 'vms', header: t('vms.inv.vmCount'), cell: (h) => h.vm_count, sortValue: (h) => h.vm_count, class: 'col-num' },
  ];
  const dsCols: Column<DatastoreRow>[] = [
    { id: 'name', header: t('vms.inv.datastore'), cell: (d) => <span class="mono">{d.name}</span>, sortValue: (d) => d.name, filterValue: (d) => d.name },
    { id: 'free', header: t('vms.inv.free'), cell: (d) => formatSize(d.free_bytes), sortValue: (d) => d.free_bytes, class: 'col-num' },
    { id: 'capacity', header: t('vms.inv.capacity'), cell: (d) => formatSize(d.capacity_bytes), sortValue: (d) => d.capacity_bytes, class: 'col-num' },
    { id: 'state', header: t('vms.inv.state'), cell: (d) => <StatusBadge state={d.accessible ? 'ok' : 'error'}>{d.accessible ? t('vms.inv.accessible') : t('vms.inv.inaccessible')}</StatusBadge> },
  ];
  return (
    <div class="vm-inventory">
      <div class="seg" role="tablist">
        {(['vms', 'hosts', 'datastores'] as const).map((s) => (
          <button key={s} type="button" role="tab" aria-selected={sub === s} class={`seg-btn${sub === s ? ' seg-btn-active' : ''}`} onClick={() => setSub(s)} data-testid={`vms-inv-${s}`}>
            {t(`vms.inv.tab.${s}`)} {inventory ? `(${inventory[s].length})` : ''}
          </button>
        ))}
      </div>
      {sub === 'vms' && <DataTable label={t('vms.inv.tab.vms')} columns={vmCols} rows={inventory?.vms ?? null} rowKey={(v) => v.id} rowAttrs={(v) => ({ 'data-testid': 'vm-row', 'data-name': v.name })} loading={loading} error={error} onRetry={onRetry} filterable initialSort={{ column: 'name', dir: 'asc' }} />}
      {sub === 'hosts' && <DataTable label={t('vms.inv.tab.hosts')} columns={hostCols} rows={inventory?.hosts ?? null} rowKey={(h) => h.id} loading={loading} error={error} onRetry={onRetry} filterable initialSort={{ column: 'name', dir: 'asc' }} />}
      {sub === 'datastores' && <DataTable label={t('vms.inv.tab.datastores')} columns={dsCols} rows={inventory?.datastores ?? null} rowKey={(d) => d.id} loading={loading} error={error} onRetry={onRetry} filterable initialSort={{ column: 'name', dir: 'asc' }} />}
    </div>
  );
}
