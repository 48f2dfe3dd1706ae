// The key tree as a virtualised list: fixed row height, only the visible rows
// (plus overscan) are in the DOM, spacers are power-of-two blocks of CSS
// classes (no style attributes: strict CSP). A "more" row entering the window
// loads the next page of its directory; a row of an evicted page reads that page
// again; each move of the window lets the owner evict pages far from it
// (rowlist.ts). Keyboard: keytree/nav.ts; the window:
// keytree/useVirtualScroll.ts; the rows: keytree/rows.tsx.
import { useEffect } from 'preact/hooks';
import type { SearchHit, TreeEntry } from '../../api/types';
import { moveTarget, navAction } from './keytree/nav';
import { EntryRow, MoreRow, Spacer } from './keytree/rows';
import { useVirtualScroll } from './keytree/useVirtualScroll';
import { windowRequests, type RowList } from './rowlist';
import type { Row } from './tree';

/** Must match --cfg-row-h in styles/config.css. */
export const ROW_H = 26;
const OVERSCAN = 12;
/** Start loading the next page this many rows before its "more" row is visible. */
export const PREFETCH = 150;

interface Props {
  rows: RowList;
  selected: string | null;
  openKey: string | null;
  expanded: Record<string, true>;
  changed: Record<string, number>;
  onSelect: (key: string) => void;
  /** click / Enter: a dir toggles, a leaf opens */
  onActivate: (entry: TreeEntry) => void;
  onExpand: (dir: string, open: boolean) => void;
  onLoadMore: (dir: string) => void;
  onRetry: (dir: string) => void;
  /** a row of evicted page `slot` of `dir` came near the window */
  onLoadSlot?: (dir: string, slot: number) => void;
  onRetrySlot?: (dir: string, slot: number) => void;
  /** the window moved to rows [start, end) (the selected key's page is to be kept) */
  onView?: (start: number, end: number, keep: string | null) => void;
  /** search results: names are shown relative to this prefix */
  flatPrefix?: string;
  /** a value search's matches by key (highlighted) */
  hits?: Record<string, SearchHit>;
  label: string;
  /** the context menu of a row, at a point (right click; Shift+F10 or the menu key on the selected row) */
  onMenu?: (entry: TreeEntry, x: number, y: number) => void;
}

const rowKey = (r: Row) => (r.type === 'entry' ? r.entry.key : r.type === 'gap' ? `gap:${r.dir}:${r.slot}` : `more:${r.dir}`);

export function KeyTree(props: Props) {
  const { rows, selected, openKey, expanded, changed, onSelect, onActivate, onExpand, onLoadMore, onRetry, flatPrefix, hits, label, onMenu } = props;
  const { scrollerRef, viewport, start, end, onScroll, scrollToIndex } = useVirtualScroll(rows.length, ROW_H, OVERSCAN);

  // Next pages: any "more" row within the window plus a prefetch margin;
  // evicted pages within the window plus the margin on either side.
  useEffect(() => {
    const ask = windowRequests(rows, start, end, PREFETCH);
    for (const dir of ask.dirs) onLoadMore(dir);
    for (const { dir, slot } of ask.slots) props.onLoadSlot?.(dir, slot);
    props.onView?.(ask.keep[0], ask.keep[1], selected);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- asks for pages when the rows or the window move, not when the parent's callback is re-created
  }, [rows, start, end]);

  const selIndex = selected ? rows.indexOfKey(selected) : -1;

  const moveTo = (i: number) => {
    const j = moveTarget(rows, selIndex, i);
    if (j === null) return;
    onSelect((rows.at(j) as Extract<Row, { type: 'entry' }>).entry.key);
    scrollToIndex(j);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (onMenu && selIndex >= 0 && (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey))) {
      const row = rows.at(selIndex) as Extract<Row, { type: 'entry' }>;
      const el = document.getElementById(`cfg-row-${encodeURIComponent(row.entry.key)}`)?.getBoundingClientRect();
      onMenu(row.entry, el ? el.left + 24 : 40, el ? el.bottom : 40);
      e.preventDefault();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const action = navAction(e.key, rows, selIndex, Math.max(1, Math.floor(viewport / ROW_H) - 1), expanded);
    if (!action) return;
    if (action.type === 'move') moveTo(action.to);
    else if (action.type === 'expand') onExpand(action.dir, action.open);
    else if (action.type === 'activate') onActivate(action.entry);
    e.preventDefault();
  };

  const visible = rows.slice(start, end);
  const activeId = selected ? `cfg-row-${encodeURIComponent(selected)}` : undefined;

  return (
    <div
      class="cfg-tree"
      ref={scrollerRef}
      role="tree"
      aria-label={label}
      tabIndex={0}
      aria-activedescendant={selIndex >= start && selIndex < end ? activeId : undefined}
      data-testid="config-tree"
      data-rows={rows.length}
      onKeyDown={onKeyDown}
      onScroll={onScroll}
    >
      <Spacer rows={start} />
      {visible.map((r, i) => {
        if (r.type === 'more') return <MoreRow key={rowKey(r)} depth={r.depth} error={r.error} onRetry={() => onRetry(r.dir)} />;
        if (r.type === 'gap') return <MoreRow key={`${rowKey(r)}:${start + i}`} depth={r.depth} error={r.error} onRetry={() => props.onRetrySlot?.(r.dir, r.slot)} />;
        const { entry, depth } = r;
        return (
          <EntryRow
            key={rowKey(r)}
            entry={entry}
            depth={depth}
            name={flatPrefix !== undefined ? entry.key.slice(flatPrefix.length) || entry.key : entry.name}
            isOpen={!!expanded[entry.key]}
            selected={entry.key === selected}
            open={entry.key === openKey}
            hot={changed[entry.key] !== undefined}
            hit={hits?.[entry.key]}
            onClick={() => {
              onSelect(entry.key);
              onActivate(entry);
            }}
            onContextMenu={
              onMenu &&
              ((x: number, y: number) => {
                onSelect(entry.key);
                onMenu(entry, x, y);
              })
            }
          />
        );
      })}
      <Spacer rows={rows.length - end} />
    </div>
  );
}
