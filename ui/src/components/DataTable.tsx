// Dense table: sortable columns, text filter, keyboard row navigation,
// loading / error / empty states, optional expandable detail rows.
import type { ComponentChildren, TargetedKeyboardEvent } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import type { AppError } from '../api/types';
import { useT } from '../i18n';
import { ErrorState } from './ErrorState';
import { Icon } from './Icon';
import { Spinner } from './Spinner';
import { filterRows, nextRowIndex, sortRows, type SortState, type SortValue } from './tableUtils';

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

const EDITABLE = 'input, select, textarea, [contenteditable="true"]';

export function DataTable<T>(props: Props<T>) {
  const { columns, rows, rowKey, filterable, initialSort, expanded } = props;
  const t = useT();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<SortState | null>(initialSort ?? null);
  const [active, setActive] = useState(0);
  const bodyRef = useRef<HTMLTableSectionElement>(null);

  const visible = useMemo(() => {
    if (!rows) return [];
    const searchable = columns.filter((c) => c.filterValue);
    let out = filter ? filterRows(rows, (r) => searchable.map((c) => c.filterValue!(r)).join('\u0000'), filter) : [...rows];
    const col = sort && columns.find((c) => c.id === sort.column);
    if (col?.sortValue) out = sortRows(out, col.sortValue, sort!.dir);
    return out;
  }, [rows, columns, filter, sort]);

  const activeIndex = Math.min(active, Math.max(visible.length - 1, 0));

  const focusRow = (index: number) => {
    const el = bodyRef.current?.querySelector<HTMLElement>(`tr[data-row-index="${index}"]`);
    if (el) {
      setActive(index);
      el.focus();
      el.scrollIntoView?.({ block: 'nearest' });
    }
  };

  const onBodyKeyDown = (e: TargetedKeyboardEvent<HTMLTableSectionElement>) => {
    const target = e.target as HTMLElement;
    if (target.closest(EDITABLE)) return;
    const tr = target.closest<HTMLElement>('tr[data-row-index]');
    if (!tr) return;
    const index = Number(tr.dataset.rowIndex);
    if (e.key === 'Enter' && target === tr && props.onActivate) {
      e.preventDefault();
      props.onActivate(visible[index]);
      return;
    }
    // From a button inside a row only up/down move; Home/End/Page keys act on the row itself.
    if (target !== tr && e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const next = nextRowIndex(e.key, index, visible.length);
    if (next !== null) {
      e.preventDefault();
      focusRow(next);
    }
  };

  const onFilterKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && filter) {
      e.preventDefault();
      e.stopPropagation();
      setFilter('');
    } else if (e.key === 'ArrowDown' && visible.length) {
      e.preventDefault();
      focusRow(0);
    }
  };

  const toggleSort = (col: Column<T>) => {
    setSort((s) =>
      s && s.column === col.id ? { column: col.id, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { column: col.id, dir: 'asc' },
    );
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
          <thead>
            <tr>
              {columns.map((col) => {
                const dir = sort?.column === col.id ? sort.dir : null;
                return (
                  <th
                    key={col.id}
                    scope="col"
                    class={col.class}
                    aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : col.sortValue ? 'none' : undefined}
                  >
                    {col.sortValue ? (
                      <button
                        type="button"
                        class={`dt-sort${dir ? ' dt-sorted' : ''}`}
                        onClick={() => toggleSort(col)}
                        title={t('table.sortBy', { column: col.header })}
                      >
                        <span>{col.header}</span>
                        <Icon name={dir === 'asc' ? 'sortAsc' : dir === 'desc' ? 'sortDesc' : 'sortNone'} size={12} class="dt-sort-icon" />
                      </button>
                    ) : (
                      <span class="dt-th">{col.header}</span>
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          {body === undefined && (
            <tbody ref={bodyRef} onKeyDown={onBodyKeyDown}>
              {visible.map((row, i) => {
                const detail = expanded?.(row);
                const attrs = props.rowAttrs?.(row) ?? {};
                const extra = props.rowClass?.(row);
                return [
                  <tr
                    key={rowKey(row)}
                    data-row-index={i}
                    tabIndex={i === activeIndex ? 0 : -1}
                    class={`dt-row${i === activeIndex ? ' dt-row-active' : ''}${extra ? ` ${extra}` : ''}`}
                    onFocusIn={() => setActive(i)}
                    onClick={(e) => {
                      setActive(i);
                      if (!(e.target as HTMLElement).closest('button, a, input, select, textarea')) {
                        (e.currentTarget as HTMLElement).focus();
                      }
                    }}
                    onDblClick={() => props.onActivate?.(row)}
                    aria-expanded={expanded ? (detail ? 'true' : 'false') : undefined}
                    {...attrs}
                  >
                    {columns.map((col) => (
                      <td key={col.id} class={col.class}>
                        {col.cell(row)}
                      </td>
                    ))}
                  </tr>,
                  detail ? (
                    <tr key={`${rowKey(row)}-detail`} class="dt-detail">
                      <td colSpan={columns.length}>{detail}</td>
                    </tr>
                  ) : null,
                ];
              })}
            </tbody>
          )}
        </table>
        {body}
      </div>
      {props.footer && <div class="dt-footer">{props.footer}</div>}
    </div>
  );
}
