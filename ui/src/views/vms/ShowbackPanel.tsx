// Showback: what the VMs cost a month by department (spend, pending
// requests and the quota's worth, charted), by VM and by owner, from the
// cached inventory of the chosen vCenter and the price list; CSV export.
import { h, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, DepartmentSpend, Showback, StoredPriceList, VmCost } from '../../api/types';
import { useSettings } from '../../app/store';
import { DataTable, type Column } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { formatMoney } from './money';
import { PriceListEditor } from './PriceListEditor';

interface ChartProps {
  departments: DepartmentSpend[];
  currency: string;
}
type ChartType = ComponentType<ChartProps>;
let loadedChart: ChartType | null = null;

/** The chart and its library are their own chunk, loaded when Showback is first opened. */
function LazyChart(props: ChartProps) {
  const [chart, setChart] = useState<ChartType | null>(() => loadedChart);
  useEffect(() => {
    if (chart) return;
    let live = true;
    void import('./DepartmentChart').then((m) => {
      loadedChart = m.DepartmentChart;
      if (live) setChart(() => m.DepartmentChart);
    });
    return () => {
      live = false;
    };
  }, [chart]);
  return chart ? h(chart, props) : null;
}

export function ShowbackPanel({ connId, version }: { connId: string; version: number }) {
  const t = useT();
  const toast = useToast();
  const { settings } = useSettings();
  const [report, setReport] = useState<Showback | null>(null);
  const [prices, setPrices] = useState<StoredPriceList | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [editing, setEditing] = useState(false);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    let live = true;
    Promise.all([api.vmsShowback(connId, null), api.vmsPriceList()]).then(
      ([r, p]) => {
        if (!live) return;
        setReport(r);
        setPrices(p);
        setError(null);
      },
      (e) => live && setError(toAppError(e)),
    );
    return () => {
      live = false;
    };
  }, [connId, version, nonce]);

  const exportCsv = async () => {
    try {
      const csv = await api.vmsShowbackCsv(connId, null);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `showback-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  if (error) return <div class="banner banner-error" role="alert">{error.message}</div>;
  if (!report || !prices) return <div class="dt-state">{t('common.loading')}</div>;
  const money = (c: number) => formatMoney(c, report.currency, settings.language);
  const gb = (n: number | null) => (n === null ? '–' : new Intl.NumberFormat(settings.language, { maximumFractionDigits: n < 1 ? 2 : 1 }).format(n));
  const cols: Column<VmCost>[] = [
    { id: 'vm', header: t('showback.col.vm'), cell: (v) => v.vm, sortValue: (v) => v.vm, filterValue: (v) => `${v.vm} ${v.department} ${v.owner}` },
    { id: 'dept', header: t('showback.col.department'), cell: (v) => v.department, sortValue: (v) => v.department },
    { id: 'owner', header: t('showback.col.owner'), cell: (v) => v.owner, sortValue: (v) => v.owner },
    { id: 'size', header: t('showback.col.size'), cell: (v) => `${v.cpu} vCPU · ${gb(v.memory_gb)} GB · ${gb(v.disk_gb)} GB` },
    { id: 'ds', header: t('showback.col.datastore'), cell: (v) => `${v.datastore}${v.cost.tier ? ` (${v.cost.tier})` : ''}`, sortValue: (v) => v.datastore },
    { id: 'monthly', header: t('showback.col.monthly'), cell: (v) => money(v.cost.monthly), sortValue: (v) => v.cost.monthly },
  ];
  return (
    <div class="sb-body" data-testid="showback-panel">
      <div class="sb-summary">
        <span class="sb-total" data-testid="showback-total">
          {t('showback.total', { amount: money(report.monthly) })}
        </span>
        <span class="ov-note">{t('showback.owners', { count: report.owners.length })}</span>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={() => setEditing((x) => !x)} data-testid="showback-edit-prices">
          <Icon name="edit" size={14} />
          {t('showback.prices.edit')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => void exportCsv()} data-testid="showback-csv">
          <Icon name="download" size={14} />
          {t('showback.csv')}
        </button>
      </div>
      {editing && (
        <PriceListEditor
          stored={prices}
          onSaved={(p) => {
            setPrices(p);
            setEditing(false);
            setNonce((n) => n + 1);
          }}
        />
      )}
      {report.departments.length > 0 && <LazyChart departments={report.departments} currency={report.currency} />}
      <DataTable
        label={t('showback.vms')}
        columns={cols}
        rows={report.vms}
        rowKey={(v) => `${v.vm_id}/${v.vm}/${v.request ?? ''}`}
        filterable
        initialSort={{ column: 'monthly', dir: 'desc' }}
        empty={<div class="dt-state">{t('showback.empty')}</div>}
      />
    </div>
  );
}
