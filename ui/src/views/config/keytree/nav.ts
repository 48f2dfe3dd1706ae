// Keyboard navigation of the key tree, as pure functions: which row a key
// moves the selection to ("more" rows are skipped), and what a key does.
import type { TreeEntry } from '../../../api/types';
import type { RowList } from '../rowlist';
import { parentOf, type Row } from '../tree';

/**
 * The entry row to select when moving towards row `i` from `selIndex`: `i`
 * clamped to the rows, then the nearest entry row in the direction of the move
 * (null: none).
 */
export function moveTarget(rows: RowList, selIndex: number, i: number): number | null {
  let j = Math.max(0, Math.min(rows.length - 1, i));
  const dir = i >= selIndex ? 1 : -1;
  while (rows.at(j) && rows.at(j)!.type !== 'entry' && j + dir >= 0 && j + dir < rows.length) j += dir;
  return rows.at(j)?.type === 'entry' ? j : null;
}

export type NavAction =
  | { type: 'move'; to: number }
  | { type: 'expand'; dir: string; open: boolean }
  | { type: 'activate'; entry: TreeEntry }
  /** the key is the tree's, but there is nothing to do */
  | { type: 'none' };

/**
 * What `key` does with the row at `selIndex` selected (-1: none), `page` rows
 * per page; null for keys the tree does not handle. Arrows, Page Up/Down,
 * Home/End move; Right opens a closed directory (else moves down), Left closes
 * an open one (else moves to the parent); Enter activates.
 */
export function navAction(key: string, rows: RowList, selIndex: number, page: number, expanded: Record<string, true>): NavAction | null {
  const cur = selIndex >= 0 ? (rows.at(selIndex) as Extract<Row, { type: 'entry' }>) : null;
  switch (key) {
    case 'ArrowDown':
      return { type: 'move', to: selIndex + 1 };
    case 'ArrowUp':
      return { type: 'move', to: selIndex < 0 ? 0 : selIndex - 1 };
    case 'PageDown':
      return { type: 'move', to: selIndex + page };
    case 'PageUp':
      return { type: 'move', to: selIndex - page };
    case 'Home':
      return { type: 'move', to: 0 };
    case 'End':
      return { type: 'move', to: rows.length - 1 };
    case 'ArrowRight':
      if (cur?.entry.is_dir) {
        if (!expanded[cur.entry.key]) return { type: 'expand', dir: cur.entry.key, open: true };
        return { type: 'move', to: selIndex + 1 };
      }
      return { type: 'none' };
    case 'ArrowLeft':
      if (cur?.entry.is_dir && expanded[cur.entry.key]) return { type: 'expand', dir: cur.entry.key, open: false };
      if (cur) {
        const parent = parentOf(cur.entry.key);
        const pi = rows.indexOfKey(parent);
        if (pi >= 0) return { type: 'move', to: pi };
      }
      return { type: 'none' };
    case 'Enter':
      return cur ? { type: 'activate', entry: cur.entry } : { type: 'none' };
    default:
      return null;
  }
}
