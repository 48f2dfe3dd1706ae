// The columns of the VM request inbox: name, state, department, size, requester, lease end, created.
import type { VmRequest } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { StatusBadge } from '../../components/StatusBadge';
import type { TFn } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { stateBadge, waitsForDecision } from './model';

export function requestColumns(t: TFn, language: string): Column<VmRequest>[] {
  return [
    { id: 'name', header: t('vms.col.name'), cell: (r) => <span class="mono">{r.spec.name}</span>, sortValue: (r) => r.spec.name, filterValue: (r) => `${r.spec.name} ${r.id}` },
    {
      id: 'state',
      header: t('vms.col.state'),
      cell: (r) => (
        <>
          <StatusBadge state={stateBadge(r.state)}>{t(`vms.state.${r.state}`)}</StatusBadge>
          {r.escalations.length > 0 && (
            <>
              {' '}
              <StatusBadge state="warn">
                <span data-testid="vm-escalated-badge">{t('delegation.badge', { to: r.escalations[r.escalations.length - 1].to })}</span>
              </StatusBadge>
            </>
          )}
          {r.extensions.some((e) => e.state === 'pending') && (
            <>
              {' '}
              <StatusBadge state="warn">
                <span data-testid="vm-extension-waiting">{t('vms.extension.title')}: {t('vms.extension.state.pending')}</span>
              </StatusBadge>
            </>
          )}
        </>
      ),
      sortValue: (r) => (waitsForDecision(r) ? 0 : 1),
      filterValue: (r) => `${r.state} ${t(`vms.state.${r.state}`)}`,
    },
    { id: 'dept', header: t('vms.form.department'), cell: (r) => r.spec.department, sortValue: (r) => r.spec.department, filterValue: (r) => r.spec.department },
    { id: 'size', header: t('vms.detail.size'), cell: (r) => t('vms.detail.sizeValue', { cpu: r.spec.cpu, memory: r.spec.memory_gb, disk: r.spec.disk_gb }), sortValue: (r) => r.spec.cpu },
    { id: 'requester', header: t('vms.col.requester'), cell: (r) => r.requester, sortValue: (r) => r.requester, filterValue: (r) => r.requester },
    { id: 'lease', header: t('vms.form.lease'), cell: (r) => r.spec.lease_end, sortValue: (r) => r.spec.lease_end, class: 'col-time' },
    { id: 'created', header: t('vms.col.created'), cell: (r) => <span title={formatDateTime(r.created_at)}>{formatRelative(r.created_at, language)}</span>, sortValue: (r) => r.created_at, class: 'col-time' },
  ];
}
