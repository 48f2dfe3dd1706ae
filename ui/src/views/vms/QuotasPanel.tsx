// Department quotas and what each department uses (existing VMs + pending
// requests); admins edit a quota inline (0 = no limit).
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';
import type { DepartmentQuota, Quota } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { DelegationsPanel } from './DelegationsPanel';
import { quotaCells } from './model';

const EMPTY: Quota = { vms: 0, vcpu: 0, memory_gb: 0, disk_gb: 0, max_lease_days: 0 };

export function QuotasPanel({ connId, version }: { connId: string; version: number }) {
  const t = useT();
  const toast = useToast();
  const [rows, setRows] = useState<DepartmentQuota[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [edit, setEdit] = useState<{ department: string; quota: Quota } | null>(null);
  const load = () => api.vmsQuotas(connId).then((q) => (setRows(q), setError(null)), (e) => setError(toAppError(e)));
  // eslint-disable-next-line react-hooks/exhaustive-deps -- reloads on a connection change or a new version
  useEffect(() => void load(), [connId, version]);

  const save = async () => {
    if (!edit) return;
    try {
      await api.vmsSetQuota(edit.department.trim(), edit.quota);
      toast.push({ kind: 'ok', title: t('vms.quota.saved', { department: edit.department }) });
      setEdit(null);
      void load();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  const cols: Column<DepartmentQuota>[] = [
    { id: 'dept', header: t('vms.form.department'), cell: (q) => <span class="mono">{q.department}</span>, sortValue: (q) => q.department, filterValue: (q) => q.department },
    ...(['vms', 'vcpu', 'memory_gb', 'disk_gb'] as const).map((k, i) => ({
      id: k,
      header: t(`vms.quota.${k}`),
      cell: (q: DepartmentQuota) => {
        const c = quotaCells(q)[i];
        return <span class={c.fraction !== null && c.fraction > 1 ? 'text-error' : c.fraction !== null && c.fraction > 0.8 ? 'text-warn' : ''}>{c.text}</span>;
      },
      sortValue: (q: DepartmentQuota) => q.usage[k],
      class: 'col-num',
    })),
    {
      id: 'edit',
      header: '',
      cell: (q) => (
        <button type="button" class="btn btn-sm" onClick={() => setEdit({ department: q.department, quota: { ...q.quota } })}>
          {t('common.edit')}
        </button>
      ),
      class: 'col-actions',
    },
  ];
  const num = (k: keyof Quota) => (
    <label class="vm-quota-field">
      <span>{t(`vms.quota.${k}`)}</span>
      <input class="input input-sm" type="number" min={0} value={edit?.quota[k] ?? 0} onInput={(e) => edit && setEdit({ ...edit, quota: { ...edit.quota, [k]: Number(e.currentTarget.value) } })} data-testid={`quota-${k}`} />
    </label>
  );
  return (
    <div class="vm-quotas">
      <DataTable
        label={t('vms.tab.quotas')}
        columns={cols}
        rows={rows}
        rowKey={(q) => q.department}
        error={error}
        onRetry={() => void load()}
        filterable
        toolbar={
          <button type="button" class="btn btn-sm" onClick={() => setEdit({ department: '', quota: { ...EMPTY } })} data-testid="quota-new">
            {t('vms.quota.new')}
          </button>
        }
        empty={<div class="dt-state">{t('vms.quota.empty')}</div>}
      />
      {edit && (
        <form class="vm-quota-edit" onSubmit={(e) => (e.preventDefault(), void save())} data-testid="quota-edit">
          <label class="vm-quota-field">
            <span>{t('vms.form.department')}</span>
            <input class="input input-sm" value={edit.department} onInput={(e) => setEdit({ ...edit, department: e.currentTarget.value })} data-testid="quota-department" />
          </label>
          {num('vms')}
          {num('vcpu')}
          {num('memory_gb')}
          {num('disk_gb')}
          <span class="muted">{t('vms.quota.zero')}</span>
          <button type="submit" class="btn btn-sm btn-primary" data-testid="quota-save">
            {t('common.save')}
          </button>
          <button type="button" class="btn btn-sm" onClick={() => setEdit(null)}>
            {t('common.cancel')}
          </button>
        </form>
      )}
      <DelegationsPanel version={version} />
    </div>
  );
}
