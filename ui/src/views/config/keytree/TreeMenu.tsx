// The key tree's context menu (right click, or Shift+F10 / the context-menu
// key on the selected row): open, move a prefix, bookmark, copy the key.
// Arrow keys move between its items, Escape closes it. Positioned through
// the CSSOM (no style attribute: strict CSP).
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { TreeEntry } from '../../../api/types';
import { useT } from '../../../i18n';

export interface MenuAt {
  entry: TreeEntry;
  x: number;
  y: number;
}

interface Props {
  at: MenuAt;
  bookmarked: boolean;
  onClose: () => void;
  onOpen: (entry: TreeEntry) => void;
  onMove: (prefix: string) => void;
  onBookmark: (key: string) => void;
}

export function TreeMenu({ at, bookmarked, onClose, onOpen, onMove, onBookmark }: Props) {
  const t = useT();
  const ref = useRef<HTMLDivElement>(null);
  const { entry } = at;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.left = `${Math.min(at.x, window.innerWidth - 220)}px`;
    el.style.top = `${Math.min(at.y, window.innerHeight - 160)}px`;
    el.querySelector<HTMLElement>('[role=menuitem]')?.focus();
  }, [at]);

  useEffect(() => {
    const away = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [onClose]);

  const items: { id: string; label: string; run: () => void; disabled?: boolean }[] = [
    { id: 'open', label: t('config.ops.menu.open'), run: () => onOpen(entry) },
    ...(entry.is_dir ? [{ id: 'move', label: t('config.ops.move.menu'), run: () => onMove(entry.key) }] : []),
    { id: 'bookmark', label: entry.is_dir ? t('config.ops.bookmarks.addPrefix') : t('config.ops.bookmarks.add'), run: () => onBookmark(entry.key), disabled: bookmarked },
    { id: 'copy', label: t('config.ops.menu.copyKey'), run: () => void navigator.clipboard?.writeText(entry.key) },
  ];

  const onKeyDown = (e: KeyboardEvent) => {
    const all = Array.from(ref.current?.querySelectorAll<HTMLElement>('[role=menuitem]:not([disabled])') ?? []);
    const i = all.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') onClose();
    else if (e.key === 'ArrowDown') all[(i + 1) % all.length]?.focus();
    else if (e.key === 'ArrowUp') all[(i - 1 + all.length) % all.length]?.focus();
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div ref={ref} class="cfg-menu" role="menu" aria-label={t('config.ops.menu.label', { key: entry.key })} data-testid="config-tree-menu" onKeyDown={onKeyDown}>
      {items.map((it) => (
        <button
          key={it.id}
          type="button"
          role="menuitem"
          class="cfg-menu-item"
          data-testid={`config-menu-${it.id}`}
          disabled={it.disabled}
          onClick={() => {
            onClose();
            it.run();
          }}
        >
          {it.label}
        </button>
      ))}
    </div>
  );
}
