// Drill-down of one cluster: findings, nodes (with metrics when served),
// failing pods and warning events, in sortable, filterable tables.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, ClusterCapacity } from '../../api/types';
import type { ClusterDetails, EventRow, Finding, NodeRow, PodRow } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { ErrorState } from '../../components/ErrorState';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { Tabs } from '../../components/Tabs';
import { useT } from '../../i18n';
import { CapacityFacts } from './CapacityFacts';
import { ClusterHistory } from './ClusterHistory';
import type { Card } from './model';

type Tab = 'findings' | 'nodes' | 'pods' | 'warnings' | 'history';

function age(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export function ClusterDetail({ card, capacity, onClose }: { card: Card; capacity?: ClusterCapacity; onClose: () => void }) {
  const t = useT();
  const [tab, setTab] = useState<Tab>('findings');
  const [details, setDetails] = useState<ClusterDetails | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [nonce, setNonce] = useState(0);
  const h = card.health;

  useEffect(() => {
    let live = true;
    setError(null);
    api.clustersDetails(card.connectionId, h.context).then(
      (d) => live && setDetails(d),
      (e) => live && setError(toAppError(e)),
    );
    return () => {
      live = false;
    };
  }, [card.connectionId, h.context, nonce]);

  const na = t('clusters.detail.notAvailable');
  const pct = (v: number | null) => (v === null ? <span class="muted">{na}</span> : `${Math.round(v)}%`);
  const findingCols: Column<Finding>[] = [
    { id: 'sev', header: t('clusters.col.severity'), cell: (f) => <StatusBadge state={f.severity === 'critical' ? 'error' : f.severity === 'warning' ? 'warn' : 'info'}>{f.severity}</StatusBadge>, sortValue: (f) => ['critical', 'warning', 'info'].indexOf(f.severity), class: 'col-status' },
    { id: 'kind', header: t('clusters.col.kind'), cell: (f) => f.kind, sortValue: (f) => f.kind, filterValue: (f) => f.kind },
    { id: 'object', header: t('clusters.col.object'), cell: (f) => <span class="mono">{f.object}</span>, sortValue: (f) => f.object, filterValue: (f) => f.object },
    { id: 'message', header: t('clusters.col.message'), cell: (f) => f.message, filterValue: (f) => f.message, class: 'col-wide' },
  ];
  const nodeCols: Column<NodeRow>[] = [
    { id: 'name', header: t('clusters.col.name'), cell: (n) => <span class="mono">{n.name}</span>, sortValue: (n) => n.name, filterValue: (n) => n.name },
    { id: 'ready', header: t('clusters.col.ready'), cell: (n) => <StatusBadge state={n.ready === 'True' ? 'ok' : 'error'}>{n.ready}</StatusBadge>, sortValue: (n) => n.ready, filterValue: (n) => n.ready },
    { id: 'roles', header: t('clusters.col.roles'), cell: (n) => n.roles.join(', '), filterValue: (n) => n.roles.join(' ') },
    { id: 'cordoned', header: t('clusters.col.cordoned'), cell: (n) => (n.cordoned ? t('common.yes') : ''), sortValue: (n) => (n.cordoned ? 1 : 0) },
    { id: 'pressure', header: t('clusters.col.pressure'), cell: (n) => n.pressure.join(', '), sortValue: (n) => n.pressure.length, filterValue: (n) => n.pressure.join(' ') },
    { id: 'kubelet', header: t('clusters.col.kubelet'), cell: (n) => <span class="mono">{n.kubelet_version ?? '—'}</span>, sortValue: (n) => n.kubelet_version ?? '' },
    { id: 'age', header: t('clusters.col.age'), cell: (n) => age(n.age_seconds), sortValue: (n) => n.age_seconds ?? -1, class: 'col-num' },
    { id: 'cpu', header: t('clusters.col.cpu'), cell: (n) => pct(n.cpu_percent), sortValue: (n) => n.cpu_percent ?? -1, class: 'col-num' },
    { id: 'mem', header: t('clusters.col.memory'), cell: (n) => pct(n.memory_percent), sortValue: (n) => n.memory_percent ?? -1, class: 'col-num' },
  ];
  const podCols: Column<PodRow>[] = [
    { id: 'ns', header: t('clusters.col.namespace'), cell: (p) => p.namespace, sortValue: (p) => p.namespace, filterValue: (p) => p.namespace },
    { id: 'name', header: t('clusters.col.name'), cell: (p) => <span class="mono">{p.name}</span>, sortValue: (p) => p.name, filterValue: (p) => p.name },
    { id: 'phase', header: t('clusters.col.phase'), cell: (p) => p.phase, sortValue: (p) => p.phase, filterValue: (p) => p.phase },
    { id: 'reason', header: t('clusters.col.reason'), cell: (p) => p.reason ?? '', sortValue: (p) => p.reason ?? '', filterValue: (p) => p.reason ?? '' },
    { id: 'restarts', header: t('clusters.col.restarts'), cell: (p) => p.restarts, sortValue: (p) => p.restarts, class: 'col-num' },
    { id: 'last', header: t('clusters.col.lastState'), cell: (p) => p.last_state ?? '', filterValue: (p) => p.last_state ?? '' },
    { id: 'node', header: t('clusters.col.node'), cell: (p) => p.node ?? '', sortValue: (p) => p.node ?? '', filterValue: (p) => p.node ?? '' },
  ];
  const eventCols: Column<EventRow>[] = [
    { id: 'seen', header: t('clusters.col.lastSeen'), cell: (e) => e.last_seen ?? '', sortValue: (e) => e.last_seen ?? '', class: 'col-time' },
    { id: 'ns', header: t('clusters.col.namespace'), cell: (e) => e.namespace, sortValue: (e) => e.namespace, filterValue: (e) => e.namespace },
    { id: 'object', header: t('clusters.col.object'), cell: (e) => <span class="mono">{e.object}</span>, filterValue: (e) => e.object },
    { id: 'reason', header: t('clusters.col.reason'), cell: (e) => e.reason, sortValue: (e) => e.reason, filterValue: (e) => e.reason },
    { id: 'message', header: t('clusters.col.message'), cell: (e) => e.message, filterValue: (e) => e.message, class: 'col-wide' },
    { id: 'count', header: t('clusters.col.count'), cell: (e) => e.count, sortValue: (e) => e.count, class: 'col-num' },
  ];

  const tabs: Tab[] = ['findings', 'nodes', 'pods', 'warnings', 'history'];
  const count = (k: Tab) => (k === 'findings' ? h.findings.length : !details ? '…' : k === 'nodes' ? details.nodes.length : k === 'pods' ? details.failing_pods.length : details.warnings.length);
  return (
    <Modal variant="drawer" size="xl" title={t('clusters.detail.title', { context: h.context, connection: card.connection })} onClose={onClose} testid="cluster-detail" closeOnBackdrop>
      {details && details.forbidden.length > 0 && (
        <p class="cl-forbidden" data-testid="cluster-forbidden">
          {t('clusters.detail.forbidden', { what: details.forbidden.join(', ') })}
        </p>
      )}
      {details && !details.metrics_available && <p class="muted">{t('clusters.detail.noMetrics')}</p>}
      <CapacityFacts capacity={capacity} detailed />
      <Tabs tabs={tabs} value={tab} onChange={setTab} testid="cluster-tab" label={(k) => (k === 'history' ? t('clustersHistory.tab') : `${t(`clusters.detail.tab.${k}`)} (${count(k)})`)} />
      {tab === 'findings' && (
        <DataTable label={t('clusters.detail.tab.findings')} columns={findingCols} rows={h.findings} rowKey={(f) => `${f.kind}|${f.object}|${f.message}`} rowAttrs={() => ({ 'data-testid': 'cluster-finding-row' })} filterable empty={<div class="dt-state">{t('clusters.noIssues')}</div>} />
      )}
      {tab === 'history' && <ClusterHistory connectionId={card.connectionId} context={h.context} />}
      {tab !== 'findings' && tab !== 'history' && error && <ErrorState error={error} onRetry={() => setNonce((n) => n + 1)} />}
      {tab !== 'findings' && tab !== 'history' && !details && !error && <Spinner size="md" label={t('common.loading')} />}
      {details && tab === 'nodes' && (
        <DataTable label={t('clusters.detail.tab.nodes')} columns={nodeCols} rows={details.nodes} rowKey={(n) => n.name} rowAttrs={(n) => ({ 'data-testid': 'cluster-node-row', 'data-name': n.name })} filterable initialSort={{ column: 'ready', dir: 'asc' }} />
      )}
      {details && tab === 'pods' && (
        <DataTable label={t('clusters.detail.tab.pods')} columns={podCols} rows={details.failing_pods} rowKey={(p) => `${p.namespace}/${p.name}`} rowAttrs={(p) => ({ 'data-testid': 'cluster-pod-row', 'data-name': p.name })} filterable empty={<div class="dt-state">{t('clusters.detail.noPods')}</div>} />
      )}
      {details && tab === 'warnings' && (
        <DataTable label={t('clusters.detail.tab.warnings')} columns={eventCols} rows={details.warnings} rowKey={(e) => `${e.namespace}/${e.object}/${e.reason}/${e.last_seen}`} rowAttrs={() => ({ 'data-testid': 'cluster-warning-row' })} filterable initialSort={{ column: 'seen', dir: 'desc' }} empty={<div class="dt-state">{t('clusters.detail.noWarnings')}</div>} />
      )}
    </Modal>
  );
}
