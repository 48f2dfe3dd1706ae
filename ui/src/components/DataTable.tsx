// Dense table: sortable columns, text filter, keyboard row navigation,
// loading / error / empty states, optional expandable detail rows.
// Parts: table/useTableView (filter, sort), table/useRowFocus, table/TableHead, table/TableRows.
import type { ComponentChildren } from 'preact';
import type { AppError } from '../api/types';
import { useT } from '../i18n';
import { ErrorState } from './ErrorState';
import { Icon } from './Icon';
import { Spinner } from './Spinner';
import { TableHead } from './table/TableHead';
import { TableRows } from './table/TableRows';
import { useRowFocus } from './table/useRowFocus';
import { useTableView } from './table/useTableView';
import type { SortState, SortValue } from './tableUtils';

export interface Column<T> {
  id: string;
  header: string;
  cell: (row: T) => ComponentChildren;
  /** Makes the column sortable. */
  sortValue?: (row: T) => SortValue;
  /** Text the filter box matches; columns without it are not searched. */
  filterValue?: (row: T) => string;
  /** Class on both <th> and <td> (width, alignment, truncation). */
  class?: string;
}

interface Props<T> {
  label: string;
  columns: Column<T>[];
  /** null = not loaded yet */
  rows: T[] | null;
  rowKey: (row: T) => string | number;
  loading?: boolean;
  error?: AppError | null;
  onRetry?: () => void;
  /** Shown when there are no rows at all (not when the filter hides them). */
  empty?: ComponentChildren;
  /** Shows the built-in filter box. */
  filterable?: boolean;
  /** Extra toolbar content, placed after the filter box. */
  toolbar?: ComponentChildren;
  initialSort?: SortState;
  rowAttrs?: (row: T) => Record<string, string | undefined>;
  rowClass?: (row: T) => string | undefined;
  /** Enter or double click on a row. */
  onActivate?: (row: T) => void;
  /** Detail row shown under a row when it returns something. */
  expanded?: (row: T) => ComponentChildren | null;
  footer?: ComponentChildren;
  testid?: string;
}

export function DataTable<T>(props: Props<T>) {
  const { columns, rows, rowKey, filterable, initialSort, expanded } = props;
  const t = useT();
  const { filter, setFilter, sort, visible, toggleSort } = useTableView(rows, columns, initialSort);
  const focus = useRowFocus(visible.length);

  const onFilterKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && filter) {
      e.preventDefault();
      e.stopPropagation();
      setFilter('');
    } else if (e.key === 'ArrowDown' && visible.length) {
      e.preventDefault();
      focus.focusRow(0);
    }
  };

  const showToolbar = filterable || props.toolbar;
  const blockingError = props.error && !rows;
  const total = rows?.length ?? 0;

  let body: ComponentChildren;
  if (blockingError) {
    body = <ErrorState error={props.error!} onRetry={props.onRetry} />;
  } else if (!rows) {
    body = (
      <div class="dt-state" data-testid="table-loading">
        <Spinner size="md" />
        <span>{t('common.loading')}</span>
      </div>
    );
  } else if (rows.length === 0) {
    body = props.empty ?? <div class="dt-state">{t('table.empty')}</div>;
  } else if (visible.length === 0) {
    body = (
      <div class="dt-state">
        <span>{t('table.noMatch', { filter })}</span>
        <button type="button" class="btn btn-sm" onClick={() => setFilter('')}>
          {t('table.clearFilter')}
        </button>
      </div>
    );
  }

  return (
    <div class="dt" data-testid={props.testid}>
      {showToolbar && (
        <div class="dt-toolbar">
          {filterable && (
            <label class="dt-filter">
              <Icon name="search" size={14} class="dt-filter-icon" />
              <input
                type="search"
                class="input input-sm"
                data-role="table-filter"
                placeholder={t('table.filter')}
                aria-label={t('table.filterLabel')}
                title={t('table.filterLabel')}
                value={filter}
                onInput={(e) => setFilter(e.currentTarget.value)}
                onKeyDown={onFilterKeyDown}
              />
              {rows && filter && <span class="dt-count">{t('common.rows', { shown: visible.length, total })}</span>}
            </label>
          )}
          {props.loading && rows && <Spinner size="sm" label={t('common.loading')} />}
          <div class="dt-toolbar-end">{props.toolbar}</div>
        </div>
      )}
      {props.error && rows && <ErrorState error={props.error} onRetry={props.onRetry} inline />}
      <div class="dt-scroll">
        <table class="dt-table" aria-label={props.label} aria-busy={props.loading ? 'true' : undefined}>
          <TableHead columns={columns} sort={sort} onSort={toggleSort} />
          {body === undefined && (
            <TableRows
              columns={columns}
              visible={visible}
              rowKey={rowKey}
              focus={focus}
              rowAttrs={props.rowAttrs}
              rowClass={props.rowClass}
              onActivate={props.onActivate}
              expanded={expanded}
            />
          )}
        </table>
        {body}
      </div>
      {props.footer && <div class="dt-footer">{props.footer}</div>}
    </div>
  );
}
