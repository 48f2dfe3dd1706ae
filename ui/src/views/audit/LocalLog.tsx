// This machine's audit log: server-side filters (platform, result, text), newest first, paged.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client';
import type { AuditEntry, AuditFilter_Deserialize, AuditPlatform, AuditResult } from '../../api/types';
import { useLatestOnly } from '../../app/latestOnly';
import { PlatformSelect } from './PlatformSelect';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { KindLabel } from '../../components/KindLabel';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { formatDateTime } from '../../util/time';

export const AUDIT_PAGE_SIZE = 100;

export function LocalLog() {
  const t = useT();
  const [platform, setPlatform] = useState('');
  const [result, setResult] = useState<'' | AuditResult>('');
  const [text, setText] = useState('');
  const [query, setQuery] = useState(''); // debounced text
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [total, setTotal] = useState(0);
  const { loading, error, run } = useLatestOnly();
  const [expanded, setExpanded] = useState<Set<number>>(new Set());

  useEffect(() => {
    const id = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(id);
  }, [text]);

  const load = (offset: number) => {
    const filter: AuditFilter_Deserialize = {
      platform: platform || null,
      result: result || null,
      text: query || null,
      limit: AUDIT_PAGE_SIZE,
      offset,
    };
    return run(
      () => api.auditList(filter),
      (page) => {
        setEntries((prev) => (offset === 0 ? page.entries : [...(prev ?? []), ...page.entries]));
        setTotal(page.total);
      },
    );
  };

  useEffect(() => {
    setExpanded(new Set());
    void load(0);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reloads from the first page when a filter changes
  }, [platform, result, query]);

  const filtered = Boolean(platform || result || query);
  const clearFilters = () => {
    setPlatform('');
    setResult('');
    setText('');
    setQuery('');
  };

  const toggle = (e: AuditEntry) =>
    setExpanded((s) => {
      const next = new Set(s);
      if (next.has(e.id)) next.delete(e.id);
      else next.add(e.id);
      return next;
    });

  const columns: Column<AuditEntry>[] = [
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
      cell: (e) => (
        <StatusBadge state={e.result === 'ok' ? 'ok' : 'error'}>
          {e.result === 'ok' ? t('audit.resultOk') : t('audit.resultError')}
        </StatusBadge>
      ),
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

  const toolbar = (
    <div class="audit-filters">
      <label class="dt-filter">
        <Icon name="search" size={14} class="dt-filter-icon" />
        <input
          type="search"
          class="input input-sm audit-search"
          data-role="table-filter"
          data-testid="audit-search"
          placeholder={t('audit.search')}
          aria-label={t('audit.search')}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && text) {
              e.stopPropagation();
              setText('');
            }
          }}
        />
      </label>
      <PlatformSelect value={platform} onChange={setPlatform} testid="audit-platform" />
      <select
        class="input input-sm"
        data-testid="audit-result"
        aria-label={t('audit.result')}
        value={result}
        onChange={(e) => setResult(e.currentTarget.value as '' | AuditResult)}
      >
        <option value="">{t('audit.allResults')}</option>
        <option value="ok">{t('audit.resultOk')}</option>
        <option value="error">{t('audit.resultError')}</option>
      </select>
      {filtered && (
        <button type="button" class="btn btn-sm btn-ghost" onClick={clearFilters}>
          {t('audit.clearFilters')}
        </button>
      )}
      <span class="toolbar-spacer" />
      {entries && (
        <span class="dt-count" data-testid="audit-count">
          {t('audit.showing', { shown: entries.length, total })}
        </span>
      )}
      <button
        type="button"
        class="btn btn-sm btn-ghost"
        onClick={() => void load(0)}
        title={t('common.refresh')}
        aria-label={t('common.refresh')}
      >
        <Icon name="refresh" size={14} />
      </button>
    </div>
  );

  return (
    <DataTable
        label={t('view.audit')}
        testid="audit-table"
        columns={columns}
        rows={entries}
        rowKey={(e) => e.id}
        loading={loading}
        error={error}
        onRetry={() => void load(0)}
        toolbar={toolbar}
        rowAttrs={() => ({ 'data-testid': 'audit-row' })}
        rowClass={(e) => (e.result === 'error' ? 'row-error' : undefined)}
        onActivate={toggle}
        expanded={(e) =>
          expanded.has(e.id) ? (
            <div class="audit-detail">
              <div class="mono">{e.target}</div>
              <div>{e.detail}</div>
            </div>
          ) : null
        }
        empty={
          filtered ? (
            <EmptyState icon="search" title={t('audit.noMatch')} compact actions={
              <button type="button" class="btn btn-sm" onClick={clearFilters}>
                {t('audit.clearFilters')}
              </button>
            } />
          ) : (
            <EmptyState icon="audit" title={t('audit.emptyTitle')} testid="audit-empty">
              <p>{t('audit.emptyBody')}</p>
            </EmptyState>
          )
        }
        footer={
          entries && entries.length < total ? (
            <button
              type="button"
              class="btn btn-sm"
              data-testid="audit-load-more"
              disabled={loading}
              onClick={() => void load(entries.length)}
            >
              {loading && <Spinner size="sm" />}
              {t('audit.loadMore')}
            </button>
          ) : undefined
        }
      />
  );
}
