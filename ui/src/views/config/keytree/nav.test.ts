import { describe, expect, it } from 'vitest';
import type { TreeEntry } from '../../../api/types';
import { rowsOf } from '../rowlist';
import type { Row } from '../tree';
import { moveTarget, navAction } from './nav';

const entry = (key: string, depth = 0): Row => ({
  type: 'entry',
  entry: { key, name: key, is_dir: key.endsWith('/'), meta: null } as TreeEntry,
  depth,
});
const more = (dir: string): Row => ({ type: 'more', dir, depth: 1, loading: true, error: null });

// /a/ (open) > /a/x, more of /a/ ; /b
const list: Row[] = [entry('/a/'), entry('/a/x', 1), more('/a/'), entry('/b')];
const rows = rowsOf(list);

describe('moveTarget', () => {
  it('skips "more" rows in the direction of the move and clamps to the rows', () => {
    expect(moveTarget(rows, 1, 2)).toBe(3);
    expect(moveTarget(rows, 3, 2)).toBe(1);
    expect(moveTarget(rows, 0, 99)).toBe(3);
    expect(moveTarget(rows, 0, -5)).toBe(0);
    expect(moveTarget(rowsOf([more('/')]), -1, 0)).toBeNull();
  });
});

describe('navAction', () => {
  const open = { '/a/': true as const };
  it('moves with arrows, pages, Home and End', () => {
    expect(navAction('ArrowDown', rows, -1, 10, open)).toEqual({ type: 'move', to: 0 });
    expect(navAction('ArrowUp', rows, -1, 10, open)).toEqual({ type: 'move', to: 0 });
    expect(navAction('ArrowUp', rows, 3, 10, open)).toEqual({ type: 'move', to: 2 });
    expect(navAction('PageDown', rows, 0, 10, open)).toEqual({ type: 'move', to: 10 });
    expect(navAction('End', rows, 0, 10, open)).toEqual({ type: 'move', to: 3 });
  });
  it('opens and closes directories with Right and Left, else moves', () => {
    expect(navAction('ArrowRight', rows, 0, 10, {})).toEqual({ type: 'expand', dir: '/a/', open: true });
    expect(navAction('ArrowRight', rows, 0, 10, open)).toEqual({ type: 'move', to: 1 });
    expect(navAction('ArrowRight', rows, 1, 10, open)).toEqual({ type: 'none' });
    expect(navAction('ArrowLeft', rows, 0, 10, open)).toEqual({ type: 'expand', dir: '/a/', open: false });
    expect(navAction('ArrowLeft', rows, 1, 10, open)).toEqual({ type: 'move', to: 0 });
    expect(navAction('ArrowLeft', rows, 3, 10, open)).toEqual({ type: 'none' });
  });
  it('activates the selected row with Enter, and leaves other keys alone', () => {
    expect(navAction('Enter', rows, 1, 10, open)).toEqual({ type: 'activate', entry: (list[1] as Extract<Row, { type: 'entry' }>).entry });
    expect(navAction('Enter', rows, -1, 10, open)).toEqual({ type: 'none' });
    expect(navAction('a', rows, 1, 10, open)).toBeNull();
  });
});
