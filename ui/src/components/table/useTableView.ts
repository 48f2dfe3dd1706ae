// What a DataTable shows of its rows: those matching the filter text (over the
// columns that have a filterValue), in the order of the sorted column.
import { useMemo, useState } from 'preact/hooks';
import type { Column } from '../DataTable';
import { filterRows, sortRows, type SortState } from '../tableUtils';

export function useTableView<T>(rows: T[] | null, columns: Column<T>[], initialSort: SortState | undefined) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<SortState | null>(initialSort ?? null);

  const visible = useMemo(() => {
    if (!rows) return [];
    const searchable = columns.filter((c) => c.filterValue);
    let out = filter ? filterRows(rows, (r) => searchable.map((c) => c.filterValue!(r)).join('\u0000'), filter) : [...rows];
    const col = sort && columns.find((c) => c.id === sort.column);
    if (col?.sortValue) out = sortRows(out, col.sortValue, sort!.dir);
    return out;
  }, [rows, columns, filter, sort]);

  return {
    filter,
    setFilter,
    sort,
    visible,
    /** Sorts by `col`, ascending first; again on the same column flips the direction. */
    toggleSort: (col: Column<T>) =>
      setSort((s) => (s && s.column === col.id ? { column: col.id, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { column: col.id, dir: 'asc' })),
  };
}
