// Config workspace (etcd): connection picker, lazily paged + virtualised key
// tree with search, live watch of the open prefix, the value editor with
// guarded saves, history/rollback, compare & copy, export/import, delete prefix.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Connection, KeyValue, TreeEntry, WatchEvent } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useRememberedConnection } from '../../app/lastConnection';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { useConnections } from '../../app/store';
import { useT } from '../../i18n';
import { NoConnection } from '../workspace/NoConnection';
import { ChangesDialog } from './ChangesDialog';
import { CompareDialog } from './dialogs/CompareDialog';
import { DeletePrefixDialog } from './dialogs/DeletePrefixDialog';
import { ExportDialog } from './dialogs/ExportDialog';
import { ImportDialog } from './dialogs/ImportDialog';
import { NewKeyDialog } from './dialogs/NewKeyDialog';
import { useChanges } from './useChanges';
import { HistoryPanel } from './HistoryPanel';
import { KeyTree } from './KeyTree';
import {
  applyWatchEvent,
  clearChanged,
  emptyDir,
  initialTree,
  invalidate,
  loadFailed,
  loadStarted,
  mergePage,
  PAGE_SIZE,
  parentOf,
  ROOT,
  setMeta,
  toggle,
  visibleRows,
  type Row,
  type TreeState,
  type WatchProblem,
} from './tree';
import { ValuePanel, type ExternalChange } from './ValuePanel';

export const LAST_CONNECTION_KEY = 'opsdeck.config.connection';
const SEARCH_LIMIT = 500;
const HIGHLIGHT_MS = 2500;

export function ConfigView() {
  const { list } = useConnections();
  const etcd = list?.filter((c) => c.spec.kind === 'etcd') ?? null;
  // Loading, load errors and "no etcd connection" look like the other workspaces.
  if (!etcd || etcd.length === 0) return <NoConnection view="config" />;
  return <ConfigWorkspace connections={etcd} />;
}

type DialogName = 'new' | 'compare' | 'export' | 'import' | 'deletePrefix' | 'changes' | null;

function ConfigWorkspace({ connections }: { connections: Connection[] }) {
  const t = useT();
  const toast = useToast();
  const [conn, rememberChoice] = useRememberedConnection(LAST_CONNECTION_KEY, connections);
  const id = conn.id;

  const [tree, setTree] = useState<TreeState>(() => initialTree());
  const treeRef = useRef(tree);
  treeRef.current = tree;
  const inflight = useRef(new Set<string>());
  const epoch = useRef(0);

  const [prefix, setPrefix] = useState(ROOT); // the open prefix: watched, counted, searched
  const [selected, setSelected] = useState<string | null>(null);
  const [open, setOpen] = useState<{ key: string; isNew: boolean; nonce: number } | null>(null);
  const [openKv, setOpenKv] = useState<KeyValue | null>(null);
  const [reloadSignal, setReloadSignal] = useState(0);
  const [tab, setTab] = useState<'value' | 'history'>('value');
  const [count, setCount] = useState<number | null>(null);
  const [countError, setCountError] = useState<AppError | null>(null);
  const [countNonce, setCountNonce] = useState(0);
  const [search, setSearch] = useState('');
  const [results, setResults] = useState<TreeEntry[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<AppError | null>(null);
  const [external, setExternal] = useState<ExternalChange | null>(null);
  const [watchProblem, setWatchProblem] = useState<WatchProblem | null>(null);
  const [watchNonce, setWatchNonce] = useState(0);
  const [watching, setWatching] = useState(false);
  const [dialog, setDialog] = useState<DialogName>(null);
  const changes = useChanges(id);

  // ---- connection ----
  const chooseConnection = (next: string) => {
    rememberChoice(next);
    epoch.current++;
    inflight.current.clear();
    setTree(initialTree());
    setPrefix(ROOT);
    setSelected(null);
    setOpen(null);
    setOpenKv(null);
    setSearch('');
    setResults(null);
    setExternal(null);
  };

  // ---- tree paging ----
  const loadPage = useCallback(
    async (dir: string, first = false) => {
      if (inflight.current.has(dir)) return;
      const d = treeRef.current.dirs[dir];
      if (!first && d && (d.complete || d.error)) return;
      const mine = epoch.current;
      inflight.current.add(dir);
      setTree((s) => loadStarted(s, dir));
      try {
        const cursor = first || !d?.loaded ? null : d.cursor;
        const page = await api.configTree(id, dir, cursor, PAGE_SIZE);
        if (mine === epoch.current) setTree((s) => mergePage(s, dir, page, cursor === null));
      } catch (e) {
        if (mine === epoch.current) setTree((s) => loadFailed(s, dir, toAppError(e)));
      } finally {
        if (mine === epoch.current) inflight.current.delete(dir);
      }
    },
    [id],
  );

  const retry = (dir: string) => {
    setTree((s) => ({ ...s, dirs: { ...s.dirs, [dir]: { ...(s.dirs[dir] ?? emptyDir()), error: null } } }));
    void loadPage(dir);
  };

  const refreshTree = () => {
    epoch.current++;
    inflight.current.clear();
    setTree((s) => invalidate(s, s.root));
    setCountNonce((n) => n + 1);
  };

  // ---- count of the open prefix ----
  useEffect(() => {
    let cancelled = false;
    setCountError(null);
    const timer = setTimeout(() => {
      api.configCount(id, prefix).then(
        (n) => !cancelled && setCount(n),
        (e) => !cancelled && setCountError(toAppError(e)),
      );
    }, 120);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [id, prefix, countNonce]);

  // ---- search under the open prefix (debounced) ----
  useEffect(() => {
    const text = search.trim();
    if (!text) {
      setResults(null);
      setSearchError(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      setSearching(true);
      api.configSearch(id, prefix, text, SEARCH_LIMIT).then(
        (r) => {
          if (cancelled) return;
          setResults(r);
          setSearchError(null);
          setSearching(false);
        },
        (e) => {
          if (cancelled) return;
          setSearchError(toAppError(e));
          setSearching(false);
        },
      );
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [id, prefix, search]);

  // ---- watch the open prefix ----
  const openRef = useRef(open);
  openRef.current = open;
  const countTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onEvent = useRef<(ev: WatchEvent) => void>(() => {});
  onEvent.current = (ev) => {
    if (ev.type === 'error' || ev.type === 'compacted') {
      setWatching(false);
      setWatchProblem(
        ev.type === 'error'
          ? { kind: 'error', message: ev.message, revision: null }
          : { kind: 'compacted', message: '', revision: ev.compact_revision },
      );
      return;
    }
    setTree((s) => applyWatchEvent(s, ev, Date.now()));
    if (ev.type === 'delete') setResults((r) => r && r.filter((e) => e.key !== ev.key));
    const cur = openRef.current;
    if (cur && ev.key === cur.key) {
      setExternal({ key: ev.key, revision: ev.type === 'put' ? ev.meta.mod_revision : ev.mod_revision, deleted: ev.type === 'delete' });
    }
    clearTimeout(countTimer.current);
    countTimer.current = setTimeout(() => setCountNonce((n) => n + 1), 600);
  };

  useEffect(() => {
    let stop: (() => Promise<void>) | null = null;
    let cancelled = false;
    setWatchProblem(null);
    setWatching(false);
    api.configWatch(id, prefix, (ev) => !cancelled && onEvent.current(ev)).then(
      (s) => {
        if (cancelled) void s().catch(() => {});
        else {
          stop = s;
          setWatching(true);
        }
      },
      (e) => !cancelled && setWatchProblem({ kind: 'error', message: toAppError(e).message, revision: null }),
    );
    return () => {
      cancelled = true;
      clearTimeout(countTimer.current);
      if (stop) void stop().catch(() => {});
    };
  }, [id, prefix, watchNonce]);

  const restartWatch = () => {
    // After a compaction or a broken stream the tree may have missed events: reload it too.
    refreshTree();
    setWatchNonce((n) => n + 1);
  };

  // Highlights fade.
  const hasChanged = Object.keys(tree.changed).length > 0;
  useEffect(() => {
    if (!hasChanged) return;
    const timer = setInterval(() => setTree((s) => clearChanged(s, Date.now() - HIGHLIGHT_MS)), 400);
    return () => clearInterval(timer);
  }, [hasChanged]);

  // ---- rows ----
  const treeRows = useMemo(() => visibleRows(tree), [tree]);
  const rows: Row[] = useMemo(
    () => (results ? results.map((entry) => ({ type: 'entry' as const, entry, depth: 0 })) : treeRows),
    [results, treeRows],
  );

  const openKey = (key: string, isNew = false) => {
    setOpen({ key, isNew, nonce: Date.now() });
    setSelected(key);
    setOpenKv(null);
    setExternal(null);
    setTab('value');
    if (!results) setPrefix(parentOf(key) || ROOT);
  };

  const activate = (entry: TreeEntry) => {
    if (entry.is_dir) {
      const willOpen = !tree.expanded[entry.key];
      setTree((s) => toggle(s, entry.key));
      setPrefix(willOpen ? entry.key : parentOf(entry.key) || ROOT);
    } else {
      openKey(entry.key);
    }
  };

  const expand = (dir: string, want: boolean) => {
    setTree((s) => toggle(s, dir, want));
    setPrefix(want ? dir : parentOf(dir) || ROOT);
  };

  // ---- layout ----
  const rootState = tree.dirs[tree.root];
  const rootError = rootState?.error && !rootState.loaded ? rootState.error : null;

  return (
    <section class="view view-config" data-testid="view-config">
      <div class="cfg-toolbar">
        <ConnectionPicker icon="plug" label={t('config.connection')} connections={connections} value={id} onChange={chooseConnection} testid="config" />
        <div class="cfg-prefix-info" title={prefix}>
          <span class="muted">{t('config.prefix')}</span>
          <span class="mono cfg-prefix-text truncate" data-testid="config-prefix">
            {prefix}
          </span>
          <span class="cfg-count" data-testid="config-count" data-count={count ?? ''}>
            {countError ? (
              <span class="error-inline-text" title={countError.message}>
                {t('config.countFailed')}
              </span>
            ) : count === null ? (
              <Spinner />
            ) : (
              t('config.count', { count, n: count.toLocaleString() })
            )}
          </span>
          <span class={`cfg-live${watching ? ' cfg-live-on' : ''}`} title={watching ? t('config.watch.liveTitle', { prefix }) : t('config.watch.offTitle')}>
            <span class="badge-dot" aria-hidden="true" />
            {watching ? t('config.watch.live') : t('config.watch.off')}
          </span>
        </div>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={() => setDialog('new')} data-testid="config-new-key">
          <Icon name="plus" size={14} />
          {t('config.newKey.button')}
        </button>
        {changes.list && changes.list.protected.length > 0 && (
          <button type="button" class="btn btn-sm" onClick={() => setDialog('changes')} data-testid="config-changes-open">
            {t('config.changes.button', { count: changes.waiting })}
          </button>
        )}
        <button type="button" class="btn btn-sm" onClick={() => setDialog('compare')} data-testid="config-compare-open">
          <Icon name="compare" size={14} />
          {t('config.compare.button')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => setDialog('export')} data-testid="config-export">
          <Icon name="download" size={14} />
          {t('config.export.button')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => setDialog('import')} data-testid="config-import">
          <Icon name="upload" size={14} />
          {t('config.import.button')}
        </button>
        <button
          type="button"
          class="btn btn-sm btn-danger-ghost"
          onClick={() => setDialog('deletePrefix')}
          data-testid="config-delete-prefix"
          disabled={prefix === ROOT}
          title={prefix === ROOT ? t('config.deletePrefix.rootDisabled') : t('config.deletePrefix.button', { prefix })}
        >
          <Icon name="trash" size={14} />
          {t('config.deletePrefix.short')}
        </button>
      </div>

      {watchProblem && (
        <div class="banner banner-warn" role="alert" data-testid="config-watch-problem">
          <Icon name="alert" class="banner-icon" />
          <strong class="banner-title">
            {watchProblem.kind === 'compacted' ? t('config.watch.compacted', { revision: watchProblem.revision ?? 0 }) : t('config.watch.error')}
          </strong>
          <span class="banner-body">{watchProblem.kind === 'error' ? watchProblem.message : t('config.watch.compactedBody')}</span>
          <span class="toolbar-spacer" />
          <button type="button" class="btn btn-sm" onClick={restartWatch} data-testid="config-watch-restart">
            <Icon name="refresh" size={14} />
            {t('config.watch.restart')}
          </button>
        </div>
      )}

      <div class="cfg-split">
        <div class="cfg-tree-pane">
          <div class="cfg-search">
            <Icon name="search" size={14} class="dt-filter-icon" />
            <input
              type="search"
              class="input input-sm"
              value={search}
              placeholder={t('config.search.placeholder', { prefix })}
              aria-label={t('config.search.label')}
              data-testid="config-search"
              onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape' && search) {
                  e.stopPropagation();
                  setSearch('');
                } else if (e.key === 'ArrowDown') {
                  e.preventDefault();
                  document.querySelector<HTMLElement>('[data-testid=config-tree]')?.focus();
                }
              }}
            />
            <button type="button" class="btn btn-sm btn-icon btn-ghost" data-testid="config-tree-refresh" onClick={refreshTree} title={t('common.refresh')} aria-label={t('common.refresh')}>
              <Icon name="refresh" size={14} />
            </button>
          </div>
          {results && (
            <div class="cfg-search-info muted" role="status">
              {searching ? <Spinner /> : null}
              {t('config.search.results', { count: results.length, prefix })}
              {results.length >= SEARCH_LIMIT && ` ${t('config.search.limited', { limit: SEARCH_LIMIT })}`}
              <button type="button" class="btn btn-sm btn-ghost" onClick={() => setSearch('')}>
                {t('table.clearFilter')}
              </button>
            </div>
          )}
          {searchError && <ErrorState error={searchError} inline title={t('config.search.failed')} />}
          {rootError ? (
            <div class="cfg-tree-state">
              <ErrorState error={rootError} title={t('config.errors.tree')} onRetry={() => retry(tree.root)} />
            </div>
          ) : results && results.length === 0 ? (
            <div class="cfg-tree-state">
              <EmptyState compact icon="search" title={t('config.search.none', { text: search.trim() })} />
            </div>
          ) : rootState?.loaded && rootState.complete && rootState.children.length === 0 && !results ? (
            <div class="cfg-tree-state">
              <EmptyState
                compact
                icon="config"
                title={t('config.tree.emptyTitle')}
                actions={
                  <button type="button" class="btn btn-sm btn-primary" onClick={() => setDialog('new')}>
                    <Icon name="plus" size={14} />
                    {t('config.newKey.button')}
                  </button>
                }
              >
                {t('config.tree.emptyBody')}
              </EmptyState>
            </div>
          ) : (
            <KeyTree
              rows={rows}
              selected={selected}
              openKey={open?.key ?? null}
              expanded={tree.expanded}
              changed={tree.changed}
              onSelect={setSelected}
              onActivate={activate}
              onExpand={expand}
              onLoadMore={(dir) => void loadPage(dir)}
              onRetry={retry}
              flatPrefix={results ? prefix : undefined}
              label={t('config.tree.label')}
            />
          )}
        </div>

        <div class="cfg-panel">
          {!open ? (
            <EmptyState icon="key" title={t('config.value.noneTitle')}>
              <p>{t('config.value.noneBody')}</p>
            </EmptyState>
          ) : (
            <>
              <div class="cfg-tabs" role="tablist">
                <button
                  type="button"
                  role="tab"
                  class={`cfg-tab${tab === 'value' ? ' cfg-tab-active' : ''}`}
                  aria-selected={tab === 'value'}
                  onClick={() => setTab('value')}
                  data-testid="config-tab-value"
                >
                  <Icon name="edit" size={14} />
                  {t('config.tabs.value')}
                </button>
                <button
                  type="button"
                  role="tab"
                  class={`cfg-tab${tab === 'history' ? ' cfg-tab-active' : ''}`}
                  aria-selected={tab === 'history'}
                  onClick={() => setTab('history')}
                  data-testid="config-tab-history"
                  disabled={open.isNew && !openKv}
                >
                  <Icon name="history" size={14} />
                  {t('config.tabs.history')}
                </button>
              </div>
              <div class="cfg-tab-body">
                <ValuePanel
                  key={`${id}:${open.key}:${open.nonce}`}
                  connId={id}
                  keyName={open.key}
                  protectedBy={changes.protectedBy(open.key)}
                  onProposed={changes.reload}
                  isNew={open.isNew}
                  external={external}
                  hidden={tab !== 'value'}
                  reloadSignal={reloadSignal}
                  onLoaded={setOpenKv}
                  onWritten={(meta) => setTree((s) => setMeta(s, meta))}
                  onDeleted={(key, revision) => {
                    setTree((s) => applyWatchEvent(s, { type: 'delete', key, mod_revision: revision }, Date.now()));
                    setResults((r) => r && r.filter((e) => e.key !== key));
                  }}
                />
                {tab === 'history' && (
                  <HistoryPanel
                    key={`${id}:${open.key}`}
                    connId={id}
                    keyName={open.key}
                    current={openKv}
                    onRolledBack={() => {
                      setReloadSignal((n) => n + 1);
                      setTab('value');
                    }}
                  />
                )}
              </div>
            </>
          )}
        </div>
      </div>

      {dialog === 'new' && (
        <NewKeyDialog
          prefix={prefix}
          onClose={() => setDialog(null)}
          onCreate={(key) => {
            setDialog(null);
            openKey(key, true);
          }}
        />
      )}
      {dialog === 'changes' && changes.list && (
        <ChangesDialog
          connId={id}
          list={changes.list}
          onClose={() => setDialog(null)}
          onChanged={() => {
            changes.reload();
            refreshTree();
          }}
        />
      )}
      {dialog === 'compare' && <CompareDialog connId={id} initialLeft={prefix === ROOT ? '/app/dev/' : prefix} onClose={() => setDialog(null)} onCopied={refreshTree} />}
      {dialog === 'export' && <ExportDialog connId={id} prefix={prefix} onClose={() => setDialog(null)} />}
      {dialog === 'import' && <ImportDialog connId={id} prefix={prefix} onClose={() => setDialog(null)} onImported={refreshTree} />}
      {dialog === 'deletePrefix' && (
        <DeletePrefixDialog
          connId={id}
          prefix={prefix}
          onClose={() => setDialog(null)}
          onDeleted={(n) => {
            setDialog(null);
            toast.push({ kind: 'ok', title: t('config.deletePrefix.done', { count: n, prefix }) });
            if (open?.key.startsWith(prefix)) setOpen(null);
            const gone = prefix;
            setPrefix(parentOf(gone) || ROOT);
            refreshTree();
          }}
        />
      )}
    </section>
  );
}
