// Config workspace (etcd): connection picker, lazily paged + virtualised key
// tree with search, live watch of the open prefix, the value editor with
// guarded saves, history/rollback, compare & copy, export/import, delete prefix.
// State lives in hooks: useConfigTree (pages), usePrefixCount, useKeySearch,
// usePrefixWatch, useOpenKey (the key in the value panel), useChanges.
import { useMemo, useState } from 'preact/hooks';
import type { Connection, TreeEntry } from '../../api/types';
import { useRememberedConnection } from '../../app/lastConnection';
import { useConnections } from '../../app/store';
import { NoConnection } from '../workspace/NoConnection';
import { Bookmarks } from './Bookmarks';
import { ConfigDialogs } from './ConfigDialogs';
import { ConfigToolbar, type DialogName } from './ConfigToolbar';
import { KeyPanel } from './KeyPanel';
import { TreeMenu, type MenuAt } from './keytree/TreeMenu';
import { rowsOf, visibleRows, type RowList } from './rowlist';
import { applyWatchEvent, parentOf, ROOT, setMeta, toggle } from './tree';
import { TreePane } from './TreePane';
import { useBookmarks } from './useBookmarks';
import { useChanges } from './useChanges';
import { useConfigTree } from './useConfigTree';
import { useKeySearch } from './useKeySearch';
import { useOpenKey } from './useOpenKey';
import { usePrefixCount } from './usePrefixCount';
import { usePrefixWatch, type KeyEvent, type WatchGap } from './usePrefixWatch';
import { WatchGapBanner, WatchProblemBanner } from './WatchProblemBanner';

export const LAST_CONNECTION_KEY = 'opsdeck.config.connection';

export function ConfigView() {
  const { list } = useConnections();
  const etcd = list?.filter((c) => c.spec.kind === 'etcd') ?? null;
  // Loading, load errors and "no etcd connection" look like the other workspaces.
  if (!etcd || etcd.length === 0) return <NoConnection view="config" />;
  return <ConfigWorkspace connections={etcd} />;
}

function ConfigWorkspace({ connections }: { connections: Connection[] }) {
  const [conn, rememberChoice] = useRememberedConnection(LAST_CONNECTION_KEY, connections);
  const id = conn.id;

  const { tree, setTree, loadPage, loadSlot, retrySlot, view, retry, reset: resetTree, refresh } = useConfigTree(id);
  const [prefix, setPrefix] = useState(ROOT); // the open prefix: watched, counted, searched
  const [selected, setSelected] = useState<string | null>(null);
  const [dialog, setDialog] = useState<DialogName>(null);
  const openKey = useOpenKey();
  // A first page read over the whole prefix counted its keys: no second walk of it.
  const prefixDir = tree.dirs[prefix];
  const count = usePrefixCount(id, prefix, {
    pending: !!tree.expanded[prefix] && !prefixDir?.loaded && !prefixDir?.error,
    total: prefixDir?.total ?? null,
  });
  const search = useKeySearch(id, prefix);
  const changes = useChanges(id);
  const bookmarks = useBookmarks(id);
  const [menu, setMenu] = useState<MenuAt | null>(null);
  const [movePrefix, setMovePrefix] = useState<string | null>(null);
  const { results } = search;

  const chooseConnection = (next: string) => {
    rememberChoice(next);
    resetTree();
    setPrefix(ROOT);
    setSelected(null);
    openKey.close();
    search.reset();
  };

  const refreshTree = () => {
    refresh();
    count.recount();
  };

  const onWatchChange = (ev: KeyEvent) => {
    setTree((s) => applyWatchEvent(s, ev, Date.now()));
    if (ev.type === 'delete') search.drop(ev.key);
    openKey.noteChange(ev);
  };
  // A gap (etcd compacted the history the watch needed after an outage):
  // deletions in it cannot be known, so the tree reloads; the open key, if
  // named as changed, says so as for any change by someone else.
  const onWatchGap = (gap: WatchGap) => {
    refreshTree();
    const open = openKey.open?.key;
    if (open && gap.changed.includes(open)) openKey.noteChange({ type: 'put', key: open, meta: { key: open, create_revision: 0, mod_revision: gap.revision, version: 0, lease: 0 }, value: null });
  };
  const watch = usePrefixWatch(id, prefix, onWatchChange, count.recount, onWatchGap);

  const restartWatch = () => {
    // A watch that stopped may have missed events: reload the tree too.
    refreshTree();
    watch.restart();
  };

  // ---- rows ----
  const treeRows = useMemo(() => visibleRows(tree), [tree]);
  const rows: RowList = useMemo(
    () => (results ? rowsOf(results.map((entry) => ({ type: 'entry' as const, entry, depth: 0 }))) : treeRows),
    [results, treeRows],
  );

  const showKey = (key: string, isNew = false) => {
    openKey.show(key, isNew);
    setSelected(key);
    if (!results) setPrefix(parentOf(key) || ROOT);
  };

  const activate = (entry: TreeEntry) => {
    if (entry.is_dir) {
      const willOpen = !tree.expanded[entry.key];
      setTree((s) => toggle(s, entry.key));
      setPrefix(willOpen ? entry.key : parentOf(entry.key) || ROOT);
    } else {
      showKey(entry.key);
    }
  };

  const expand = (dir: string, want: boolean) => {
    setTree((s) => toggle(s, dir, want));
    setPrefix(want ? dir : parentOf(dir) || ROOT);
  };

  return (
    <section class="view view-config" data-testid="view-config">
      <ConfigToolbar
        connections={connections}
        connId={id}
        onChooseConnection={chooseConnection}
        prefix={prefix}
        count={count}
        live={watch.state}
        reconnect={watch.reconnect}
        changes={changes}
        onDialog={setDialog}
      />

      {watch.problem && <WatchProblemBanner problem={watch.problem} onRestart={restartWatch} />}
      {watch.gap && <WatchGapBanner gap={watch.gap} onDismiss={watch.dismissGap} />}

      <div class="cfg-split">
        <div class="cfg-left">
          <Bookmarks
            bookmarks={bookmarks}
            onOpen={(key, isPrefix) => {
              if (isPrefix) expand(key, true);
              else showKey(key);
            }}
          />
          <TreePane
            prefix={prefix}
            tree={tree}
            rows={rows}
            search={search}
            selected={selected}
            openKey={openKey.open?.key ?? null}
            onSelect={setSelected}
            onActivate={activate}
            onExpand={expand}
            onLoadMore={(dir) => void loadPage(dir)}
            onRetry={retry}
            onLoadSlot={(dir, slot) => void loadSlot(dir, slot)}
            onRetrySlot={retrySlot}
            onView={view}
            onRefresh={refreshTree}
            onNewKey={() => setDialog('new')}
            onMenu={(entry, x, y) => setMenu({ entry, x, y })}
          />
        </div>
        <KeyPanel
          connId={id}
          openKey={openKey}
          changes={changes}
          onWritten={(meta) => setTree((s) => setMeta(s, meta))}
          onDeleted={(key, revision) => {
            setTree((s) => applyWatchEvent(s, { type: 'delete', key, mod_revision: revision }, Date.now()));
            search.drop(key);
          }}
        />
      </div>

      {menu && (
        <TreeMenu
          at={menu}
          bookmarked={bookmarks.has(menu.entry.key)}
          onClose={() => {
            setMenu(null);
            document.querySelector<HTMLElement>('[data-testid=config-tree]')?.focus();
          }}
          onOpen={activate}
          onMove={(p) => {
            setMovePrefix(p);
            setDialog('move');
          }}
          onBookmark={(key) => void bookmarks.add(key)}
        />
      )}

      <ConfigDialogs
        movePrefix={movePrefix}
        dialog={dialog}
        onClose={() => setDialog(null)}
        connId={id}
        connections={connections}
        prefix={prefix}
        changes={changes}
        onTreeChanged={refreshTree}
        onCreateKey={(key) => showKey(key, true)}
        onPrefixDeleted={(gone) => {
          if (openKey.open?.key.startsWith(gone)) openKey.close();
          setPrefix(parentOf(gone) || ROOT);
          refreshTree();
        }}
      />
    </section>
  );
}
