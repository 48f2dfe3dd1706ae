// The local audit log's toolbar: search, platform and result filters, how many
// entries are shown, and refresh.
import type { AuditResult } from '../../api/types';
import { Icon } from '../../components/Icon';
import { useT } from '../../i18n';
import { PlatformSelect } from './PlatformSelect';
import type { AuditFilters } from './useAuditFilters';

interface Props {
  filters: AuditFilters;
  /** entries shown of `total` (nothing shown before the first load) */
  shown: number | null;
  total: number;
  onRefresh: () => void;
}

export function AuditFilterBar({ filters: f, shown, total, onRefresh }: Props) {
  const t = useT();
  const { text, setText } = f;
  return (
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
      <PlatformSelect value={f.platform} onChange={f.setPlatform} testid="audit-platform" />
      <select class="input input-sm" data-testid="audit-result" aria-label={t('audit.result')} value={f.result} onChange={(e) => f.setResult(e.currentTarget.value as '' | AuditResult)}>
        <option value="">{t('audit.allResults')}</option>
        <option value="ok">{t('audit.resultOk')}</option>
        <option value="error">{t('audit.resultError')}</option>
      </select>
      {f.filtered && (
        <button type="button" class="btn btn-sm btn-ghost" onClick={f.clear}>
          {t('audit.clearFilters')}
        </button>
      )}
      <span class="toolbar-spacer" />
      {shown !== null && (
        <span class="dt-count" data-testid="audit-count">
          {t('audit.showing', { shown, total })}
        </span>
      )}
      <button type="button" class="btn btn-sm btn-ghost" onClick={onRefresh} title={t('common.refresh')} aria-label={t('common.refresh')}>
        <Icon name="refresh" size={14} />
      </button>
    </div>
  );
}
