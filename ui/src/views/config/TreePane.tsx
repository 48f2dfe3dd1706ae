// The left pane of the Config workspace: the search box, then the key tree, the
// search matches, or why there is nothing to show (an error, no match, no key).
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { KeyTree } from './KeyTree';
import type { RowList } from './rowlist';
import type { TreeState } from './tree';
import type { TreeEntry } from '../../api/types';
import { SEARCH_LIMIT, type useKeySearch } from './useKeySearch';

interface Props {
  prefix: string;
  tree: TreeState;
  rows: RowList;
  search: ReturnType<typeof useKeySearch>;
  selected: string | null;
  openKey: string | null;
  onSelect: (key: string) => void;
  onActivate: (entry: TreeEntry) => void;
  onExpand: (dir: string, want: boolean) => void;
  onLoadMore: (dir: string) => void;
  onRetry: (dir: string) => void;
  onLoadSlot?: (dir: string, slot: number) => void;
  onRetrySlot?: (dir: string, slot: number) => void;
  onView?: (start: number, end: number, keep: string | null) => void;
  onRefresh: () => void;
  onNewKey: () => void;
  onMenu?: (entry: TreeEntry, x: number, y: number) => void;
}

export function TreePane(props: Props) {
  const { prefix, tree, rows, search: s, selected, openKey, onSelect, onActivate, onExpand, onLoadMore, onRetry, onRefresh, onNewKey, onMenu } = props;
  const t = useT();
  const { search, setSearch, results, searching, error: searchError } = s;
  const rootState = tree.dirs[tree.root];
  const rootError = rootState?.error && !rootState.loaded ? rootState.error : null;
  return (
    <div class="cfg-tree-pane">
      <div class="cfg-search">
        <Icon name="search" size={14} class="dt-filter-icon" />
        <input
          type="search"
          class="input input-sm"
          value={search}
          placeholder={t('config.search.placeholder', { prefix })}
          aria-label={t('config.search.label')}
          data-testid="config-search"
          onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && search) {
              e.stopPropagation();
              setSearch('');
            } else if (e.key === 'ArrowDown') {
              e.preventDefault();
              document.querySelector<HTMLElement>('[data-testid=config-tree]')?.focus();
            }
          }}
        />
        <label class="cfg-search-values" title={t('config.search.inValuesTitle')}>
          <input type="checkbox" class="check" checked={s.inValues} data-testid="config-search-values" onChange={(e) => s.setInValues((e.currentTarget as HTMLInputElement).checked)} />
          {t('config.search.inValues')}
        </label>
        <label class="cfg-search-values" title={t('config.search.fuzzyTitle')}>
          <input type="checkbox" class="check" checked={s.fuzzy} data-testid="config-search-fuzzy" onChange={(e) => s.setFuzzy((e.currentTarget as HTMLInputElement).checked)} />
          {t('config.search.fuzzy')}
        </label>
        <button type="button" class="btn btn-sm btn-icon btn-ghost" data-testid="config-tree-refresh" onClick={onRefresh} title={t('common.refresh')} aria-label={t('common.refresh')}>
          <Icon name="refresh" size={14} />
        </button>
      </div>
      {results && (
        <div class="cfg-search-info muted" role="status">
          {searching ? <Spinner /> : null}
          {t('config.search.results', { count: results.length, prefix })}
          {s.streamed && s.scanned !== null && ` ${t('config.search.scanned', { count: s.scanned, n: s.scanned.toLocaleString() })}`}
          {results.length >= SEARCH_LIMIT && ` ${t('config.search.limited', { limit: SEARCH_LIMIT })}`}
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => setSearch('')}>
            {t('table.clearFilter')}
          </button>
        </div>
      )}
      {searchError && <ErrorState error={searchError} inline title={t('config.search.failed')} />}
      {rootError ? (
        <div class="cfg-tree-state">
          <ErrorState error={rootError} title={t('config.errors.tree')} onRetry={() => onRetry(tree.root)} />
        </div>
      ) : results && results.length === 0 ? (
        <div class="cfg-tree-state">
          <EmptyState compact icon="search" title={t('config.search.none', { text: search.trim() })} />
        </div>
      ) : rootState?.loaded && rootState.complete && rootState.pages.every((p) => p.count === 0) && !results ? (
        <div class="cfg-tree-state">
          <EmptyState
            compact
            icon="config"
            title={t('config.tree.emptyTitle')}
            actions={
              <button type="button" class="btn btn-sm btn-primary" onClick={onNewKey}>
                <Icon name="plus" size={14} />
                {t('config.newKey.button')}
              </button>
            }
          >
            {t('config.tree.emptyBody')}
          </EmptyState>
        </div>
      ) : (
        <KeyTree
          rows={rows}
          selected={selected}
          openKey={openKey}
          expanded={tree.expanded}
          changed={tree.changed}
          onSelect={onSelect}
          onActivate={onActivate}
          onExpand={onExpand}
          onLoadMore={onLoadMore}
          onRetry={onRetry}
          onLoadSlot={results ? undefined : props.onLoadSlot}
          onRetrySlot={props.onRetrySlot}
          onView={results ? undefined : props.onView}
          flatPrefix={results ? prefix : undefined}
          hits={results && s.streamed ? s.hits : undefined}
          label={t('config.tree.label')}
          onMenu={onMenu}
        />
      )}
    </div>
  );
}
