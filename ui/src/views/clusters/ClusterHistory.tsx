// A cluster's health timeline: every verdict change (time, from → to, who saw
// it) with the findings that appeared and cleared, newest first.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Finding, HealthTransition } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { ErrorState } from '../../components/ErrorState';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';

type Verdict = HealthTransition['to'];
const badge = (v: Verdict) => (v === 'healthy' ? 'ok' : v === 'degraded' ? 'warn' : 'error');

function FindingList({ items, none }: { items: Finding[]; none: string }) {
  if (items.length === 0) return <span class="muted">{none}</span>;
  return (
    <ul class="cl-history-findings">
      {items.map((f) => (
        <li key={`${f.kind}|${f.object}|${f.message}`} title={f.object}>
          {f.message}
        </li>
      ))}
    </ul>
  );
}

export function ClusterHistory({ connectionId, context }: { connectionId: string; context: string }) {
  const t = useT();
  const [rows, setRows] = useState<HealthTransition[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    let live = true;
    setError(null);
    api.clustersHistory(connectionId, context, null).then(
      (r) => live && setRows(r),
      (e) => live && setError(toAppError(e)),
    );
    return () => {
      live = false;
    };
  }, [connectionId, context, nonce]);

  if (error) return <ErrorState error={error} onRetry={() => setNonce((n) => n + 1)} />;
  if (!rows) return <Spinner size="md" label={t('common.loading')} />;
  const none = t('clustersHistory.none');
  const verdict = (v: Verdict) => <StatusBadge state={badge(v)}>{t(`clusters.verdict.${v}`)}</StatusBadge>;
  const cols: Column<HealthTransition>[] = [
    { id: 'time', header: t('clustersHistory.col.time'), cell: (r) => <span class="mono">{r.at}</span>, sortValue: (r) => r.at, class: 'col-time' },
    {
      id: 'change',
      header: t('clustersHistory.col.change'),
      cell: (r) => (
        <span class="cl-history-change">
          {r.from ? verdict(r.from) : <span class="muted">{t('clustersHistory.first')}</span>} → {verdict(r.to)}
        </span>
      ),
      sortValue: (r) => r.to,
      filterValue: (r) => `${r.from ?? ''} ${r.to}`,
    },
    {
      id: 'source',
      header: t('clustersHistory.col.source'),
      cell: (r) => (['live', 'check', 'cli'].includes(r.source) ? t(`clustersHistory.source.${r.source as 'live' | 'check' | 'cli'}`) : r.source),
      filterValue: (r) => `${r.source} ${r.origin}`,
    },
    { id: 'appeared', header: t('clustersHistory.col.appeared'), cell: (r) => <FindingList items={r.appeared} none={none} />, filterValue: (r) => r.appeared.map((f) => f.message).join(' '), class: 'col-wide' },
    { id: 'cleared', header: t('clustersHistory.col.cleared'), cell: (r) => <FindingList items={r.cleared} none={none} />, filterValue: (r) => r.cleared.map((f) => f.message).join(' '), class: 'col-wide' },
  ];
  return (
    <DataTable
      label={t('clustersHistory.tab')}
      columns={cols}
      rows={rows}
      rowKey={(r) => String(r.id)}
      rowAttrs={(r) => ({ 'data-testid': 'cluster-history-row', 'data-to': r.to })}
      filterable
      initialSort={{ column: 'time', dir: 'desc' }}
      empty={<div class="dt-state">{t('clustersHistory.empty')}</div>}
    />
  );
}
