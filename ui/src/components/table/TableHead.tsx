// The header row of a DataTable: a sort button per sortable column, showing its direction.
import { useT } from '../../i18n';
import type { Column } from '../DataTable';
import { Icon } from '../Icon';
import type { SortState } from '../tableUtils';

export function TableHead<T>({ columns, sort, onSort }: { columns: Column<T>[]; sort: SortState | null; onSort: (col: Column<T>) => void }) {
  const t = useT();
  return (
    <thead>
      <tr>
        {columns.map((col) => {
          const dir = sort?.column === col.id ? sort.dir : null;
          return (
            <th key={col.id} scope="col" class={col.class} aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : col.sortValue ? 'none' : undefined}>
              {col.sortValue ? (
                <button type="button" class={`dt-sort${dir ? ' dt-sorted' : ''}`} onClick={() => onSort(col)} title={t('table.sortBy', { column: col.header })}>
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
  );
}
