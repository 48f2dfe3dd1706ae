import { describe, expect, it } from 'vitest';
import { compareValues, filterRows, nextRowIndex, sortRows } from './tableUtils';

describe('sortRows', () => {
  const rows = [
    { n: 'node10', v: 3 },
    { n: 'node2', v: null },
    { n: 'Node1', v: 1 },
    { n: '', v: 2 },
  ];

  it('sorts naturally and case-insensitively, empty values last', () => {
    expect(sortRows(rows, (r) => r.n, 'asc').map((r) => r.n)).toEqual(['Node1', 'node2', 'node10', '']);
    expect(sortRows(rows, (r) => r.n, 'desc').map((r) => r.n)).toEqual(['node10', 'node2', 'Node1', '']);
  });

  it('sorts numbers, nulls last in both directions', () => {
    expect(sortRows(rows, (r) => r.v, 'asc').map((r) => r.v)).toEqual([1, 2, 3, null]);
    expect(sortRows(rows, (r) => r.v, 'desc').map((r) => r.v)).toEqual([3, 2, 1, null]);
  });

  it('is stable', () => {
    const same = [1, 2, 3].map((i) => ({ i, k: 'x' }));
    expect(sortRows(same, (r) => r.k, 'desc').map((r) => r.i)).toEqual([1, 2, 3]);
  });

  it('compareValues', () => {
    expect(compareValues('a', 'B')).toBeLessThan(0);
    expect(compareValues(2, 10)).toBeLessThan(0);
    expect(compareValues(null, 'a')).toBeGreaterThan(0);
  });
});

describe('filterRows', () => {
  const rows = ['prod etcd http://10.0.0.1:2379', 'lab vcenter https://vc/sdk', 'Prod Docker tcp://h:2376'];
  it('matches every term case-insensitively', () => {
    expect(filterRows(rows, (r) => r, 'prod')).toHaveLength(2);
    expect(filterRows(rows, (r) => r, 'PROD 2379')).toEqual([rows[0]]);
    expect(filterRows(rows, (r) => r, '  ')).toEqual(rows);
    expect(filterRows(rows, (r) => r, 'nothing')).toEqual([]);
  });
});

describe('nextRowIndex', () => {
  it('moves and clamps', () => {
    expect(nextRowIndex('ArrowDown', 0, 3)).toBe(1);
    expect(nextRowIndex('ArrowDown', 2, 3)).toBe(2);
    expect(nextRowIndex('ArrowUp', 0, 3)).toBe(0);
    expect(nextRowIndex('End', 0, 3)).toBe(2);
    expect(nextRowIndex('Home', 2, 3)).toBe(0);
    expect(nextRowIndex('PageDown', 0, 30)).toBe(10);
    expect(nextRowIndex('PageUp', 5, 30)).toBe(0);
    expect(nextRowIndex('x', 0, 3)).toBeNull();
    expect(nextRowIndex('ArrowDown', 0, 0)).toBeNull();
  });
});
