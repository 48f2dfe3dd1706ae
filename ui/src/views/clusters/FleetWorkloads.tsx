// The fleet workloads view: every Deployment of a Kubernetes connection's
// contexts side by side (one column per context: ready/desired replicas and
// images), image and replica drift and missing contexts flagged. A context
// that could not be read is a warning above the table and a "not read" cell,
// never "missing". Sortable, filterable, keyboard navigable (DataTable).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Connection, FleetReport, FleetWorkload } from '../../api/types';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { drifted, driftRank, fleetCell, fleetContexts, fleetFilterText, imageTag } from './fleet';

export function FleetWorkloads({ connections }: { connections: Connection[] }) {
  const t = useT();
  const [connectionId, setConnectionId] = useState(connections[0]?.id ?? '');
  const [namespace, setNamespace] = useState('');
  const [asked, setAsked] = useState('');
  const [driftOnly, setDriftOnly] = useState(false);
  const [report, setReport] = useState<FleetReport | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!connectionId) return;
    let live = true;
    setLoading(true);
    setError(null);
    api.clustersFleetWorkloads(connectionId, asked.trim() || null).then(
      (r) => {
        if (!live) return;
        setReport(r);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setReport(null);
        setError(toAppError(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [connectionId, asked, nonce]);

  const contexts = useMemo(() => (report ? fleetContexts(report) : []), [report]);
  const rows = report ? report.workloads.filter((w) => !driftOnly || drifted(w)) : null;
  const driftCount = report ? report.workloads.filter(drifted).length : 0;

  const cols: Column<FleetWorkload>[] = [
    {
      id: 'name',
      header: t('clustersFleet.col.deployment'),
      cell: (w) => (
        <span class="fl-name">
          <span class="muted">{w.namespace}/</span>
          <strong>{w.name}</strong>
        </span>
      ),
      sortValue: (w) => `${w.namespace}/${w.name}`,
      filterValue: fleetFilterText,
      class: 'fl-col-name',
    },
    {
      id: 'drift',
      header: t('clustersFleet.col.drift'),
      cell: (w) =>
        drifted(w) ? (
          <span class="fl-flags">
            {w.image_drift && <StatusBadge state="warn">{t('clustersFleet.imageDrift')}</StatusBadge>}
            {w.replica_drift && <StatusBadge state="warn">{t('clustersFleet.replicaDrift')}</StatusBadge>}
            {w.missing.length > 0 && (
              <StatusBadge state="error" title={w.missing.join(', ')}>
                {t('clustersFleet.missingIn', { contexts: w.missing.join(', ') })}
              </StatusBadge>
            )}
          </span>
        ) : (
          <StatusBadge state="ok">{t('clustersFleet.same')}</StatusBadge>
        ),
      sortValue: driftRank,
      class: 'fl-col-drift',
    },
    ...contexts.map(
      (c): Column<FleetWorkload> => ({
        id: `ctx:${c}`,
        header: c,
        cell: (w) => {
          const cell = report ? fleetCell(report, w, c) : { kind: 'missing' as const };
          if (cell.kind === 'missing') return <span class="fl-cell fl-missing" data-testid="fleet-cell" data-state="missing">{t('clustersFleet.missing')}</span>;
          if (cell.kind === 'unread')
            return (
              <span class="fl-cell fl-unread muted" data-testid="fleet-cell" data-state="unread" title={cell.message}>
                {t('clustersFleet.notRead')}
              </span>
            );
          const p = cell.placement;
          const short = p.ready < p.replicas;
          return (
            <span class="fl-cell" data-testid="fleet-cell" data-state={cell.imageOdd || cell.replicaOdd ? 'drift' : 'same'}>
              <span class={`fl-replicas mono${cell.replicaOdd ? ' fl-odd' : ''}${short ? ' fl-short' : ''}`} title={t('clustersFleet.replicasTitle', { ready: p.ready, desired: p.replicas })}>
                {p.ready}/{p.replicas}
              </span>
              <span class={`fl-images mono${cell.imageOdd ? ' fl-odd' : ''}`} title={p.images.join('\n')}>
                {p.images.map(imageTag).join(', ')}
              </span>
            </span>
          );
        },
        sortValue: (w) => w.placements.find((p) => p.context === c)?.replicas ?? -1,
        class: 'fl-col-ctx',
      }),
    ),
  ];

  const unread = report?.errors ?? [];
  return (
    <div class="fl-view" data-testid="fleet-workloads">
      <div class="cfg-toolbar fl-toolbar">
        {connections.length > 1 && <ConnectionPicker icon="clusters" label={t('clustersFleet.connection')} connections={connections} value={connectionId} onChange={setConnectionId} testid="fleet" />}
        <form
          class="fl-field"
          onSubmit={(e) => {
            e.preventDefault();
            setAsked(namespace);
          }}
        >
          <span class="muted">{t('clustersFleet.namespace')}</span>
          <input type="text" class="input input-sm mono" placeholder={t('clustersFleet.allNamespaces')} value={namespace} onInput={(e) => setNamespace(e.currentTarget.value)} onBlur={() => setAsked(namespace)} data-testid="fleet-namespace" aria-label={t('clustersFleet.namespace')} />
        </form>
        <label class="fl-field fl-check">
          <input type="checkbox" checked={driftOnly} onChange={(e) => setDriftOnly(e.currentTarget.checked)} data-testid="fleet-drift-only" />
          {t('clustersFleet.driftOnly')}
        </label>
        <span class="toolbar-spacer" />
        {report && (
          <span class="muted" data-testid="fleet-summary" data-drifted={driftCount} data-total={report.workloads.length}>
            {t('clustersFleet.summary', { drifted: driftCount, total: report.workloads.length, contexts: report.contexts.length })}
          </span>
        )}
      </div>
      {unread.length > 0 && (
        <div class="banner banner-warn" role="status" data-testid="fleet-unread">
          {unread.map((e) => (
            <div key={e.context}>
              {t('clustersFleet.unread', { context: e.context, code: e.code, message: e.message })}
            </div>
          ))}
        </div>
      )}
      <DataTable
        label={t('clustersFleet.title')}
        columns={cols}
        rows={rows}
        rowKey={(w) => `${w.namespace}/${w.name}`}
        rowAttrs={(w) => ({ 'data-testid': 'fleet-row', 'data-name': `${w.namespace}/${w.name}`, 'data-drift': drifted(w) ? 'true' : 'false' })}
        rowClass={(w) => (drifted(w) ? 'fl-row-drift' : undefined)}
        loading={loading}
        error={error}
        onRetry={() => setNonce((n) => n + 1)}
        filterable
        initialSort={{ column: 'drift', dir: 'desc' }}
        empty={
          driftOnly && report && report.workloads.length > 0 ? (
            <EmptyState icon="check" title={t('clustersFleet.noDrift')} compact />
          ) : (
            <EmptyState icon="search" title={asked.trim() ? t('clustersFleet.emptyNamespace', { namespace: asked.trim() }) : t('clustersFleet.empty')} compact />
          )
        }
        testid="fleet-table"
      />
    </div>
  );
}
