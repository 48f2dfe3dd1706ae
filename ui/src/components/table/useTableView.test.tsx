// @vitest-environment jsdom
import { expect, it } from 'vitest';
import { act, renderHook } from '../../util/renderHook';
import type { Column } from '../DataTable';
import { useTableView } from './useTableView';

interface Row {
  name: string;
  size: number;
  secret: string;
}
const rows: Row[] = [
  { name: 'beta', size: 2, secret: 'x' },
  { name: 'alpha', size: 10, secret: 'y' },
  { name: 'gamma', size: 1, secret: 'beta' },
];
const columns: Column<Row>[] = [
  { id: 'name', header: 'Name', cell: (r) => r.name, sortValue: (r) => r.name, filterValue: (r) => r.name },
  { id: 'size', header: 'Size', cell: (r) => r.size, sortValue: (r) => r.size },
  { id: 'secret', header: 'Secret', cell: (r) => r.secret },
];

it('filters over the searchable columns only, and sorts by the chosen column, flipping on a second click', () => {
  const { result } = renderHook(() => useTableView(rows, columns, { column: 'name', dir: 'asc' }), {});
  expect(result.current.visible.map((r) => r.name)).toEqual(['alpha', 'beta', 'gamma']);
  act(() => result.current.setFilter('beta'));
  expect(result.current.visible.map((r) => r.name)).toEqual(['beta']); // not gamma, whose "beta" is in an unsearched column
  act(() => result.current.setFilter(''));
  act(() => result.current.toggleSort(columns[1]));
  expect(result.current.sort).toEqual({ column: 'size', dir: 'asc' });
  expect(result.current.visible.map((r) => r.size)).toEqual([1, 2, 10]);
  act(() => result.current.toggleSort(columns[1]));
  expect(result.current.visible.map((r) => r.size)).toEqual([10, 2, 1]);
  act(() => result.current.toggleSort(columns[0]));
  expect(result.current.sort).toEqual({ column: 'name', dir: 'asc' });
});

it('shows nothing before the rows are loaded', () => {
  const { result } = renderHook(() => useTableView<Row>(null, columns, undefined), {});
  expect(result.current.visible).toEqual([]);
  expect(result.current.sort).toBeNull();
});
