// Preview of a lifecycle pass — the app's `opsdeck vm lifecycle --dry-run
// [--at]`: for a chosen day, the VMs a pass would snapshot, warn, power off
// or destroy, and the capacity each department gets back. The backend works
// out the same plan a real pass does; nothing is changed.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, DepartmentReturn, LifecycleCapacity, LifecyclePlan, LifecycleStep } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { Modal } from '../../components/Modal';
import { StatusBadge, type BadgeState } from '../../components/StatusBadge';
import { useT, type TFn } from '../../i18n';
import { formatDateTime } from '../../util/time';

const BADGE: Record<string, BadgeState> = {
  snapshot: 'info',
  snapshot_removed: 'info',
  lease_warning: 'warn',
  power_off: 'warn',
  reclaim: 'error',
  vm_missing: 'never',
  ip_release: 'info',
};

/** Today as YYYY-MM-DD in local time (the date input's value). */
export function today(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

function gb(mb: number): string {
  const g = mb / 1024;
  return Number.isInteger(g) ? String(g) : g.toFixed(2);
}

/** "2 VMs · 4 vCPU · 8 GB memory · 80 GB disk"; with `running`, without disk. */
export function capacityText(t: TFn, c: LifecycleCapacity, running = false): string {
  if (c.vms === 0 && c.vcpu === 0 && c.memory_mb === 0 && c.disk_gb === 0) return t('lifecyclePlan.none');
  const p = { vms: c.vms, vcpu: c.vcpu, memory: gb(c.memory_mb), disk: c.disk_gb };
  return running ? t('lifecyclePlan.running', p) : t('lifecyclePlan.capacity', p);
}

/** The action's name in the user's language; the id when unknown. */
function actionLabel(t: TFn, action: string): string {
  const key = `lifecyclePlan.action.${action}`;
  const label = t(key);
  return label === key ? action : label;
}

function stepColumns(t: TFn): Column<LifecycleStep>[] {
  return [
    { id: 'vm', header: t('lifecyclePlan.col.vm'), cell: (s) => <span class="mono">{s.vm}</span>, sortValue: (s) => s.vm, filterValue: (s) => `${s.vm} ${s.request}` },
    { id: 'dept', header: t('lifecyclePlan.col.department'), cell: (s) => s.department || <span class="muted">—</span>, sortValue: (s) => s.department, filterValue: (s) => s.department, class: 'col-lc-dept' },
    {
      id: 'action',
      header: t('lifecyclePlan.col.action'),
      cell: (s) => <StatusBadge state={BADGE[s.action] ?? 'info'}>{actionLabel(t, s.action)}</StatusBadge>,
      sortValue: (s) => s.action,
      filterValue: (s) => `${s.action} ${actionLabel(t, s.action)}`,
      class: 'col-lc-action',
    },
    { id: 'detail', header: t('lifecyclePlan.col.detail'), cell: (s) => <span class="truncate" title={s.detail}>{s.detail}</span>, filterValue: (s) => s.detail },
    {
      id: 'frees',
      header: t('lifecyclePlan.col.frees'),
      cell: (s) => <span class="nowrap">{s.action === 'power_off' ? capacityText(t, s.frees_running, true) : capacityText(t, s.frees_quota)}</span>,
      class: 'col-lc-frees',
    },
  ];
}

function deptColumns(t: TFn): Column<DepartmentReturn>[] {
  return [
    { id: 'dept', header: t('lifecyclePlan.col.department'), cell: (d) => d.department, sortValue: (d) => d.department },
    { id: 'off', header: t('lifecyclePlan.col.poweredOff'), cell: (d) => capacityText(t, d.powered_off, true), sortValue: (d) => d.powered_off.vcpu },
    { id: 'reclaimed', header: t('lifecyclePlan.col.reclaimed'), cell: (d) => capacityText(t, d.reclaimed), sortValue: (d) => d.reclaimed.vcpu },
  ];
}

export function LifecyclePreview({ connId, onClose }: { connId: string; onClose: () => void }) {
  const t = useT();
  const [day, setDay] = useState(today());
  const [plan, setPlan] = useState<LifecyclePlan | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    (at: string) => {
      setLoading(true);
      api.vmsLifecyclePlan(connId, at || null).then(
        (p) => (setPlan(p), setError(null), setLoading(false)),
        (e) => (setError(toAppError(e)), setLoading(false)),
      );
    },
    [connId],
  );
  useEffect(() => load(today()), [load]); // the first plan: today; later ones on Preview

  const at = plan ? formatDateTime(plan.at) : '';
  return (
    <Modal title={t('lifecyclePlan.title')} onClose={onClose} size="xl" testid="lifecycle-preview" onSubmit={() => load(day)}>
      <div class="lc-controls">
        <label class="field">
          <span>{t('lifecyclePlan.at')}</span>
          <input type="date" class="input input-sm" value={day} onInput={(e) => setDay(e.currentTarget.value)} data-testid="lifecycle-preview-at" />
        </label>
        <button type="submit" class="btn btn-sm btn-primary" disabled={loading} data-testid="lifecycle-preview-run">
          {t('lifecyclePlan.preview')}
        </button>
        <span class="muted lc-hint">{t('lifecyclePlan.atHint')}</span>
      </div>
      {plan && !error && (
        <p class="lc-summary" data-testid="lifecycle-preview-summary" data-steps={plan.steps.length}>
          {plan.steps.length > 0 ? t('lifecyclePlan.summary', { steps: plan.steps.length, at }) : t('lifecyclePlan.nothing', { at })}
        </p>
      )}
      {plan && !error && plan.departments.length > 0 && (
        <>
          <h3 class="lc-heading">{t('lifecyclePlan.departments')}</h3>
          <DataTable
            label={t('lifecyclePlan.departments')}
            columns={deptColumns(t)}
            rows={plan.departments}
            rowKey={(d) => d.department}
            rowAttrs={(d) => ({ 'data-testid': 'lifecycle-dept-row', 'data-department': d.department })}
          />
        </>
      )}
      <h3 class="lc-heading">{t('lifecyclePlan.steps')}</h3>
      <DataTable
        label={t('lifecyclePlan.steps')}
        columns={stepColumns(t)}
        rows={error ? [] : plan ? plan.steps : null}
        rowKey={(s) => `${s.request}/${s.action}/${s.snapshot ?? ''}`}
        rowAttrs={(s) => ({ 'data-testid': 'lifecycle-step-row', 'data-action': s.action, 'data-vm': s.vm })}
        loading={loading}
        error={error}
        onRetry={() => load(day)}
        filterable
        empty={<div class="dt-state">{t('lifecyclePlan.nothing', { at })}</div>}
      />
    </Modal>
  );
}
