// The key tree as a virtualised list: fixed row height, only the visible rows
// (plus overscan) are in the DOM, spacers are power-of-two blocks of CSS
// classes (no style attributes: strict CSP). A "more" row entering the window
// loads the next page of its directory.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { TreeEntry } from '../../api/types';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { dirsToLoad, parentOf, spacerBits, windowOf, type Row } from './tree';

/** Must match --cfg-row-h in styles/config.css. */
export const ROW_H = 26;
const OVERSCAN = 12;
/** Start loading the next page this many rows before its "more" row is visible. */
const PREFETCH = 150;

interface Props {
  rows: Row[];
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
  /** search results: names are shown relative to this prefix */
  flatPrefix?: string;
  label: string;
}

const rowKey = (r: Row) => (r.type === 'entry' ? r.entry.key : `more:${r.dir}`);

function Spacer({ rows }: { rows: number }) {
  return (
    <>
      {spacerBits(rows).map((k, i) => (
        <div key={i} class={`vs vs-${k}`} aria-hidden="true" />
      ))}
    </>
  );
}

export function KeyTree({ rows, selected, openKey, expanded, changed, onSelect, onActivate, onExpand, onLoadMore, onRetry, flatPrefix, label }: Props) {
  const t = useT();
  const scrollerRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const frameRef = useRef(0);

  useLayoutEffect(() => {
    const el = scrollerRef.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || 600);
    measure();
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(measure) : null;
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);

  const { start, end } = windowOf(scrollTop, viewport, ROW_H, rows.length, OVERSCAN);

  // Next pages: any "more" row within the window plus a prefetch margin.
  useEffect(() => {
    for (const dir of dirsToLoad(rows, start, end + PREFETCH)) onLoadMore(dir);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- asks for pages when the rows or the window move, not when the parent's callback is re-created
  }, [rows, start, end]);

  const selIndex = selected ? rows.findIndex((r) => r.type === 'entry' && r.entry.key === selected) : -1;

  const scrollToIndex = (i: number) => {
    const el = scrollerRef.current;
    if (!el) return;
    const top = i * ROW_H;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_H > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_H - el.clientHeight;
  };

  const moveTo = (i: number) => {
    let j = Math.max(0, Math.min(rows.length - 1, i));
    // skip "more" rows when moving
    const dir = i >= selIndex ? 1 : -1;
    while (rows[j] && rows[j].type !== 'entry' && j + dir >= 0 && j + dir < rows.length) j += dir;
    const r = rows[j];
    if (r?.type === 'entry') {
      onSelect(r.entry.key);
      scrollToIndex(j);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const page = Math.max(1, Math.floor(viewport / ROW_H) - 1);
    const cur = selIndex >= 0 ? (rows[selIndex] as Extract<Row, { type: 'entry' }>) : null;
    switch (e.key) {
      case 'ArrowDown':
        moveTo(selIndex + 1);
        break;
      case 'ArrowUp':
        moveTo(selIndex < 0 ? 0 : selIndex - 1);
        break;
      case 'PageDown':
        moveTo(selIndex + page);
        break;
      case 'PageUp':
        moveTo(selIndex - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'ArrowRight':
        if (cur?.entry.is_dir) {
          if (!expanded[cur.entry.key]) onExpand(cur.entry.key, true);
          else moveTo(selIndex + 1);
        }
        break;
      case 'ArrowLeft':
        if (cur?.entry.is_dir && expanded[cur.entry.key]) onExpand(cur.entry.key, false);
        else if (cur) {
          const parent = parentOf(cur.entry.key);
          const pi = rows.findIndex((r) => r.type === 'entry' && r.entry.key === parent);
          if (pi >= 0) moveTo(pi);
        }
        break;
      case 'Enter':
        if (cur) onActivate(cur.entry);
        break;
      default:
        return;
    }
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
      onScroll={(e) => {
        const top = (e.currentTarget as HTMLDivElement).scrollTop;
        cancelAnimationFrame(frameRef.current);
        frameRef.current = requestAnimationFrame(() => setScrollTop(top));
      }}
    >
      <Spacer rows={start} />
      {visible.map((r) => {
        if (r.type === 'more') {
          return (
            <div key={rowKey(r)} class={`cfg-row cfg-row-more depth-${Math.min(r.depth, 12)}`} role="none">
              {r.error ? (
                <span class="cfg-more-error">
                  <Icon name="alert" size={13} /> {r.error.message}{' '}
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => onRetry(r.dir)}>
                    {t('common.retry')}
                  </button>
                </span>
              ) : (
                <span class="muted">
                  <Spinner /> {t('common.loading')}
                </span>
              )}
            </div>
          );
        }
        const { entry, depth } = r;
        const isOpen = !!expanded[entry.key];
        const lease = entry.meta && entry.meta.lease !== 0;
        const hot = changed[entry.key] !== undefined;
        const name = flatPrefix !== undefined ? entry.key.slice(flatPrefix.length) || entry.key : entry.name;
        const cls = [
          'cfg-row',
          `depth-${Math.min(depth, 12)}`,
          entry.key === selected ? 'cfg-row-selected' : '',
          entry.key === openKey ? 'cfg-row-open' : '',
          hot ? 'cfg-row-changed' : '',
        ]
          .filter(Boolean)
          .join(' ');
        return (
          <div
            key={rowKey(r)}
            id={`cfg-row-${encodeURIComponent(entry.key)}`}
            class={cls}
            role="treeitem"
            aria-level={depth + 1}
            aria-expanded={entry.is_dir ? isOpen : undefined}
            aria-selected={entry.key === selected}
            data-testid="config-tree-row"
            data-key={entry.key}
            data-dir={entry.is_dir ? 'true' : 'false'}
            data-changed={hot ? 'true' : undefined}
            title={entry.key}
            onClick={() => {
              onSelect(entry.key);
              onActivate(entry);
            }}
          >
            {entry.is_dir ? (
              <Icon name={isOpen ? 'chevronDown' : 'chevronRight'} size={14} class="cfg-twisty" />
            ) : (
              <span class="cfg-twisty" />
            )}
            <Icon name={entry.is_dir ? 'folder' : 'file'} size={14} class={entry.is_dir ? 'cfg-icon-dir' : 'cfg-icon-key'} />
            <span class="cfg-name truncate">{name}</span>
            {lease && (
              <span class="cfg-lease" title={t('config.tree.leaseTitle', { lease: entry.meta!.lease.toString(16) })}>
                {t('config.tree.lease')}
              </span>
            )}
            {entry.meta && <span class="cfg-rev">{entry.meta.mod_revision}</span>}
          </div>
        );
      })}
      <Spacer rows={rows.length - end} />
    </div>
  );
}
