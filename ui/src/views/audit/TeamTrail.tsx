// The team's audit trail in its etcd, oldest first: who (etcd user) changed
// what, verified as a hash chain on every load. A broken chain is shown at
// the top with each break, and the entries where it breaks are marked.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client';
import type { AuditPlatform, TrailEntry, TrailReport } from '../../api/types';
import { useLatestOnly } from '../../app/latestOnly';
import { PlatformSelect } from './PlatformSelect';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { KindLabel } from '../../components/KindLabel';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { formatDateTime } from '../../util/time';

export function TeamTrail() {
  const t = useT();
  const [user, setUser] = useState('');
  const [platform, setPlatform] = useState('');
  const [target, setTarget] = useState('');
  // Days (YYYY-MM-DD, the date inputs' value), inclusive, in UTC.
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [query, setQuery] = useState({ user: '', target: '' }); // debounced text fields
  const [report, setReport] = useState<TrailReport | null>(null);
  const { loading, error, run } = useLatestOnly();

  useEffect(() => {
    const id = setTimeout(() => setQuery({ user: user.trim(), target: target.trim() }), 250);
    return () => clearTimeout(id);
  }, [user, target]);

  const load = () =>
    run(
      () =>
        api.auditTeam({
          user: query.user || null,
          platform: platform || null,
          target: query.target || null,
          since: since ? `${since}T00:00:00Z` : null,
          until: until ? `${until}T23:59:59Z` : null,
        }),
      setReport,
    );

  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reloads when a filter changes
  }, [platform, query, since, until]);

  const broken = new Set(report?.breaks.map((b) => b.seq) ?? []);
  const columns: Column<TrailEntry>[] = [
    { id: 'seq', header: '#', cell: (e) => <span class="mono">{e.seq}</span>, sortValue: (e) => e.seq, class: 'col-seq' },
    { id: 'time', header: t('audit.col.time'), cell: (e) => <span class="mono nowrap">{formatDateTime(e.at)}</span>, sortValue: (e) => e.at, class: 'col-datetime' },
    { id: 'user', header: t('audit.col.user'), cell: (e) => <span class="truncate" title={e.key}>{e.user}</span>, sortValue: (e) => e.user, class: 'col-actor' },
    { id: 'platform', header: t('audit.col.platform'), cell: (e) => <KindLabel kind={e.platform as AuditPlatform} />, sortValue: (e) => e.platform, class: 'col-kind' },
    { id: 'target', header: t('audit.col.target'), cell: (e) => <span class="mono truncate" title={e.target}>{e.target}</span>, sortValue: (e) => e.target, class: 'col-audit-target' },
    { id: 'action', header: t('audit.col.action'), cell: (e) => <span class="mono nowrap">{e.action}</span>, sortValue: (e) => e.action, class: 'col-action' },
    {
      id: 'result',
      header: t('audit.col.result'),
      cell: (e) => <StatusBadge state={e.result === 'ok' ? 'ok' : 'error'}>{e.result === 'ok' ? t('audit.resultOk') : t('audit.resultError')}</StatusBadge>,
      sortValue: (e) => e.result,
      class: 'col-result',
    },
    { id: 'detail', header: t('audit.col.detail'), cell: (e) => <span class="truncate" title={e.detail}>{e.detail}</span>, class: 'col-detail' },
  ];

  const toolbar = (
    <div class="audit-filters">
      <input class="input input-sm" data-testid="team-audit-user" placeholder={t('audit.filterUser')} aria-label={t('audit.filterUser')} value={user} onInput={(e) => setUser(e.currentTarget.value)} />
      <PlatformSelect value={platform} onChange={setPlatform} testid="team-audit-platform" />
      <input class="input input-sm" data-testid="team-audit-target" placeholder={t('audit.filterTarget')} aria-label={t('audit.filterTarget')} value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
      <input class="input input-sm" type="date" data-testid="team-audit-since" aria-label={t('audit.since')} title={t('audit.since')} value={since} onChange={(e) => setSince(e.currentTarget.value)} />
      <input class="input input-sm" type="date" data-testid="team-audit-until" aria-label={t('audit.until')} title={t('audit.until')} value={until} onChange={(e) => setUntil(e.currentTarget.value)} />
      <span class="toolbar-spacer" />
      {report && report.breaks.length === 0 && (
        <span data-testid="team-audit-intact">
          <StatusBadge state="ok">{t('audit.chainIntact')}</StatusBadge>
        </span>
      )}
      <button type="button" class="btn btn-sm btn-ghost" onClick={() => void load()} title={t('common.refresh')} aria-label={t('common.refresh')}>
        <Icon name="refresh" size={14} />
      </button>
    </div>
  );

  return (
    <>
      {report && report.breaks.length > 0 && (
        <div class="banner banner-error banner-list" role="alert" data-testid="team-audit-broken">
          <strong>{t('audit.chainBroken', { count: report.breaks.length })}</strong>
          <ul>
            {report.breaks.map((b, i) => (
              <li key={i}>
                <span class="mono">#{b.seq}</span> {b.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      <DataTable
        label={t('audit.tab.team')}
        testid="team-audit-table"
        columns={columns}
        rows={report?.entries ?? null}
        rowKey={(e) => e.key}
        loading={loading}
        error={error}
        onRetry={() => void load()}
        toolbar={toolbar}
        rowAttrs={(e) => ({ 'data-testid': 'team-audit-row', 'data-seq': String(e.seq), 'data-broken': broken.has(e.seq) ? 'true' : 'false' })}
        rowClass={(e) => (broken.has(e.seq) ? 'row-error' : undefined)}
        empty={
          <EmptyState icon="audit" title={t('audit.teamEmptyTitle')} testid="team-audit-empty">
            <p>{t('audit.teamEmptyBody')}</p>
          </EmptyState>
        }
      />
    </>
  );
}
