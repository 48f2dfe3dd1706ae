// This machine's audit log: server-side filters (platform, result, text), newest first, paged.
// State: useAuditFilters, useAuditPages; the rows opened here.
import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../../api/types';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { auditColumns } from './auditColumns';
import { AuditFilterBar } from './AuditFilterBar';
import { useAuditFilters } from './useAuditFilters';
import { useAuditPages } from './useAuditPages';

export function LocalLog() {
  const t = useT();
  const filters = useAuditFilters();
  const { platform, result, query, filtered } = filters;
  const { entries, total, loading, error, load } = useAuditPages(filters);
  const [expanded, setExpanded] = useState<Set<number>>(new Set());

  useEffect(() => {
    setExpanded(new Set());
    void load(0);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reloads from the first page when a filter changes
  }, [platform, result, query]);

  const toggle = (e: AuditEntry) =>
    setExpanded((s) => {
      const next = new Set(s);
      if (next.has(e.id)) next.delete(e.id);
      else next.add(e.id);
      return next;
    });

  return (
    <DataTable
      label={t('view.audit')}
      testid="audit-table"
      columns={auditColumns(t)}
      rows={entries}
      rowKey={(e) => e.id}
      loading={loading}
      error={error}
      onRetry={() => void load(0)}
      toolbar={<AuditFilterBar filters={filters} shown={entries ? entries.length : null} total={total} onRefresh={() => void load(0)} />}
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
          <EmptyState
            icon="search"
            title={t('audit.noMatch')}
            compact
            actions={
              <button type="button" class="btn btn-sm" onClick={filters.clear}>
                {t('audit.clearFilters')}
              </button>
            }
          />
        ) : (
          <EmptyState icon="audit" title={t('audit.emptyTitle')} testid="audit-empty">
            <p>{t('audit.emptyBody')}</p>
          </EmptyState>
        )
      }
      footer={
        entries && entries.length < total ? (
          <button type="button" class="btn btn-sm" data-testid="audit-load-more" disabled={loading} onClick={() => void load(entries.length)}>
            {loading && <Spinner size="sm" />}
            {t('audit.loadMore')}
          </button>
        ) : undefined
      }
    />
  );
}
