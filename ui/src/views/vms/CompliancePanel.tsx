// Compliance report: tools not running, too many or too old snapshots, VMs
// powered off too long; export as CSV or JSON (copied to the clipboard).
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';
import type { ComplianceFinding } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

export function CompliancePanel({ connId, version }: { connId: string; version: number }) {
  const t = useT();
  const toast = useToast();
  const [rows, setRows] = useState<ComplianceFinding[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const load = () => {
    setLoading(true);
    api.vmsCompliance(connId).then(
      (f) => (setRows(f), setError(null), setLoading(false)),
      (e) => (setError(toAppError(e)), setLoading(false)),
    );
  };
  useEffect(load, [connId, version]);

  const exportAs = async (format: 'csv' | 'json') => {
    try {
      await navigator.clipboard.writeText(await api.vmsComplianceExport(connId, format));
      toast.push({ kind: 'ok', title: t('vms.compliance.copied', { format: format.toUpperCase() }) });
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };
  const cols: Column<ComplianceFinding>[] = [
    { id: 'vm', header: t('vms.inv.name'), cell: (f) => (f.vm ? <span class="mono">{f.vm}</span> : <span class="muted">{t('vms.compliance.wholeVcenter')}</span>), sortValue: (f) => f.vm, filterValue: (f) => f.vm },
    { id: 'rule', header: t('vms.compliance.rule'), cell: (f) => <StatusBadge state={f.rule === 'tools_not_running' ? 'warn' : 'error'}>{t(`vms.compliance.rules.${f.rule}`)}</StatusBadge>, sortValue: (f) => f.rule, filterValue: (f) => f.rule },
    { id: 'detail', header: t('vms.compliance.detail'), cell: (f) => f.detail, filterValue: (f) => f.detail },
    { id: 'owner', header: t('vms.compliance.owner'), cell: (f) => f.owner || <span class="muted">—</span>, sortValue: (f) => f.owner, filterValue: (f) => `${f.owner} ${f.department}` },
    { id: 'dept', header: t('vms.form.department'), cell: (f) => f.department || <span class="muted">—</span>, sortValue: (f) => f.department },
  ];
  return (
    <DataTable
      label={t('vms.tab.compliance')}
      columns={cols}
      rows={rows}
      rowKey={(f) => `${f.vm_id}/${f.rule}`}
      rowAttrs={(f) => ({ 'data-testid': 'compliance-row', 'data-rule': f.rule })}
      loading={loading}
      error={error}
      onRetry={load}
      filterable
      initialSort={{ column: 'vm', dir: 'asc' }}
      toolbar={
        <>
          <button type="button" class="btn btn-sm" onClick={() => void exportAs('csv')} data-testid="compliance-csv">
            {t('vms.compliance.csv')}
          </button>
          <button type="button" class="btn btn-sm" onClick={() => void exportAs('json')}>
            {t('vms.compliance.json')}
          </button>
        </>
      }
      empty={<div class="dt-state">{t('vms.compliance.empty')}</div>}
    />
  );
}
