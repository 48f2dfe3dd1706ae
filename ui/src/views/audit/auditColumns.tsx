// The columns of the local audit log's table: time, actor, platform, target, action, result, detail.
import type { AuditEntry, AuditPlatform } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { KindLabel } from '../../components/KindLabel';
import { StatusBadge } from '../../components/StatusBadge';
import type { TFn } from '../../i18n';
import { formatDateTime } from '../../util/time';

export function auditColumns(t: TFn): Column<AuditEntry>[] {
  return [
    {
      id: 'time',
      header: t('audit.col.time'),
      cell: (e) => <span class="mono nowrap">{formatDateTime(e.at)}</span>,
      sortValue: (e) => e.at,
      class: 'col-datetime',
    },
    {
      id: 'actor',
      header: t('audit.col.actor'),
      cell: (e) => (
        <span class="truncate" title={e.actor}>
          {e.actor}
        </span>
      ),
      sortValue: (e) => e.actor,
      class: 'col-actor',
    },
    {
      id: 'platform',
      header: t('audit.col.platform'),
      cell: (e) => <KindLabel kind={e.platform as AuditPlatform} />,
      sortValue: (e) => e.platform,
      class: 'col-kind',
    },
    {
      id: 'target',
      header: t('audit.col.target'),
      cell: (e) => (
        <span class="mono truncate" title={e.target}>
          {e.target}
        </span>
      ),
      sortValue: (e) => e.target,
      class: 'col-audit-target',
    },
    {
      id: 'action',
      header: t('audit.col.action'),
      cell: (e) => <span class="mono nowrap">{e.action}</span>,
      sortValue: (e) => e.action,
      class: 'col-action',
    },
    {
      id: 'result',
      header: t('audit.col.result'),
      cell: (e) => <StatusBadge state={e.result === 'ok' ? 'ok' : 'error'}>{e.result === 'ok' ? t('audit.resultOk') : t('audit.resultError')}</StatusBadge>,
      sortValue: (e) => e.result,
      class: 'col-result',
    },
    {
      id: 'detail',
      header: t('audit.col.detail'),
      cell: (e) => (
        <span class="truncate" title={e.detail}>
          {e.detail}
        </span>
      ),
      class: 'col-detail',
    },
  ];
}
