// The pages of the local audit log under the current filters, newest first:
// the first page replaces the list, the next ones add to it; the newest load wins.
import { useState } from 'preact/hooks';
import { api } from '../../api/client';
import type { AuditEntry, AuditFilter_Deserialize } from '../../api/types';
import { useLatestOnly } from '../../app/latestOnly';
import type { AuditFilters } from './useAuditFilters';

export const AUDIT_PAGE_SIZE = 100;

export function useAuditPages({ platform, result, query }: Pick<AuditFilters, 'platform' | 'result' | 'query'>) {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [total, setTotal] = useState(0);
  const { loading, error, run } = useLatestOnly();

  /** Loads the page starting at `offset` (0: from the start again). */
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

  return { entries, total, loading, error, load };
}
