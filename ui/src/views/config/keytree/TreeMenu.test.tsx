// @vitest-environment jsdom
// The key tree's context menu: Shift+F10 on the selected row opens it (as a
// right click does); a directory offers "Move prefix…", a key does not;
// arrow keys move between items and Escape closes it.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { afterEach, expect, it } from 'vitest';
import type { TreeEntry } from '../../../api/types';
import { act, flush } from '../../../util/renderHook';
import { KeyTree } from '../KeyTree';
import { rowsOf } from '../rowlist';
import type { Row } from '../tree';
import { TreeMenu, type MenuAt } from './TreeMenu';

afterEach(() => render(null, document.body));

const dir: TreeEntry = { name: 'app', key: '/app/', is_dir: true, meta: null };
const leaf: TreeEntry = { name: 'db', key: '/db', is_dir: false, meta: { key: '/db', create_revision: 1, mod_revision: 2, version: 1, lease: 0 } };
const rows = rowsOf([
  { type: 'entry', entry: dir, depth: 0 },
  { type: 'entry', entry: leaf, depth: 0 },
] satisfies Row[]);

function Harness({ selected, log }: { selected: string; log: string[] }) {
  const [menu, setMenu] = useState<MenuAt | null>(null);
  return (
    <>
      <KeyTree
        rows={rows}
        selected={selected}
        openKey={null}
        expanded={{}}
        changed={{}}
        onSelect={() => {}}
        onActivate={(e) => log.push(`open ${e.key}`)}
        onExpand={() => {}}
        onLoadMore={() => {}}
        onRetry={() => {}}
        label="keys"
        onMenu={(entry, x, y) => setMenu({ entry, x, y })}
      />
      {menu && (
        <TreeMenu
          at={menu}
          bookmarked={false}
          onClose={() => setMenu(null)}
          onOpen={(e) => log.push(`open ${e.key}`)}
          onMove={(p) => log.push(`move ${p}`)}
          onBookmark={(k) => log.push(`bookmark ${k}`)}
        />
      )}
    </>
  );
}

const key = (el: Element, k: string, shiftKey = false) => act(() => void el.dispatchEvent(new KeyboardEvent('keydown', { key: k, shiftKey, bubbles: true })));
const items = () => [...document.querySelectorAll('[role=menuitem]')].map((b) => b.getAttribute('data-testid'));

it('opens from the keyboard on a directory with Move prefix…, moves focus with arrows and runs the item', async () => {
  const log: string[] = [];
  await act(() => render(<Harness selected="/app/" log={log} />, document.body));
  const tree = document.querySelector('[data-testid=config-tree]')!;
  await key(tree, 'F10', true);
  await flush();
  expect(items()).toEqual(['config-menu-open', 'config-menu-move', 'config-menu-bookmark', 'config-menu-copy']);
  expect(document.activeElement?.getAttribute('data-testid')).toBe('config-menu-open');
  const menu = document.querySelector('[data-testid=config-tree-menu]')!;
  await key(menu, 'ArrowDown');
  expect(document.activeElement?.getAttribute('data-testid')).toBe('config-menu-move');
  await act(() => (document.activeElement as HTMLButtonElement).click());
  await flush();
  expect(log).toEqual(['move /app/']);
  expect(document.querySelector('[data-testid=config-tree-menu]')).toBeNull();
});

it('offers no move for a key, and Escape closes the menu', async () => {
  const log: string[] = [];
  await act(() => render(<Harness selected="/db" log={log} />, document.body));
  const tree = document.querySelector('[data-testid=config-tree]')!;
  await key(tree, 'ContextMenu');
  await flush();
  expect(items()).toEqual(['config-menu-open', 'config-menu-bookmark', 'config-menu-copy']);
  await key(document.querySelector('[data-testid=config-tree-menu]')!, 'Escape');
  await flush();
  expect(document.querySelector('[data-testid=config-tree-menu]')).toBeNull();
  expect(log).toEqual([]);
});
