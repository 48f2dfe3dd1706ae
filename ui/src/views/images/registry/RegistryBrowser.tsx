// The Registries tab of the Images workspace: saved registry connections
// (add with a test, remove), the chosen registry's repositories (filter) →
// a repository's tags (sort, filter), and "Scan" on a tag: the scan runs in
// the backend as `opsdeck scan HOST/REPO:TAG` would, with its progress, then
// the report. Tables are keyboard navigable (arrows, Enter opens / scans).
import { Channel } from '@tauri-apps/api/core';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, calls, toAppError } from '../../../api/client';
import type { AppError, ScanProgress } from '../../../api/types';
import type { Column } from '../../../components/DataTable';
import { DataTable } from '../../../components/DataTable';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useToast } from '../../../components/Toast';
import { useT, type TFn } from '../../../i18n';
import { ScanDrawer } from '../ScanDrawer';
import { compareTags, imageOf, type RegistryConnection } from './model';
import { RegistryDialog } from './RegistryDialog';
import '../../../styles/registry.css';

type Listing = Awaited<ReturnType<typeof api.registryRepositories>>;
interface Load {
  data: Listing | null;
  loading: boolean;
  error: AppError | null;
}
const idle: Load = { data: null, loading: false, error: null };

/** Loads `fetch()` whenever `key` changes (null: nothing to load); a stale answer is dropped. */
function useListing(key: string | null, fetch: () => Promise<Listing>): Load & { reload: () => void } {
  const [state, setState] = useState<Load>(idle);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    if (key === null) {
      setState(idle);
      return;
    }
    let live = true;
    setState({ data: null, loading: true, error: null });
    fetch().then(
      (data) => live && setState({ data, loading: false, error: null }),
      (e) => live && setState({ data: null, loading: false, error: toAppError(e) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` names what `fetch` reads
  }, [key, nonce]);
  return { ...state, reload: () => setNonce((n) => n + 1) };
}

const names = (l: Listing | null) => l?.names.map((name) => ({ name })) ?? null;

function repoColumns(t: TFn, onOpen: (name: string) => void): Column<{ name: string }>[] {
  return [
    {
      id: 'name',
      header: t('images.registry.col.name'),
      cell: (r) => (
        <button type="button" class="btn-link mono" tabIndex={-1} onClick={() => onOpen(r.name)} data-testid="registry-repo-open">
          {r.name}
        </button>
      ),
      sortValue: (r) => r.name,
      filterValue: (r) => r.name,
    },
  ];
}

function tagColumns(t: TFn, onScan: (tag: string) => void): Column<{ name: string }>[] {
  return [
    { id: 'tag', header: t('images.registry.col.tag'), cell: (r) => <span class="mono">{r.name}</span>, sortValue: (r) => r.name, filterValue: (r) => r.name },
    {
      id: 'scan',
      header: '',
      class: 'col-actions',
      cell: (r) => (
        <button
          type="button"
          class="btn btn-sm"
          onClick={(e) => {
            e.stopPropagation();
            onScan(r.name);
          }}
          data-testid="registry-tag-scan"
        >
          <Icon name="play" size={12} />
          {t('images.registry.scan')}
        </button>
      ),
    },
  ];
}

function ListingFooter({ l }: { l: Listing | null }) {
  const t = useT();
  if (!l) return null;
  return (
    <div class="dt-state reg-footer" data-testid="registry-listing-footer">
      {t('images.registry.names', { count: l.names.length })}
      {t('images.registry.listSeparator')}
      {t('images.registry.pageCount', { count: l.pages })}
      {l.truncated && <> · {t('images.registry.truncated', { count: l.names.length })}</>}
    </div>
  );
}

export function RegistryBrowser({ onScanned }: { onScanned: () => void }) {
  const t = useT();
  const toast = useToast();
  const [list, setList] = useState<RegistryConnection[] | null>(null);
  const [listError, setListError] = useState<AppError | null>(null);
  const [id, setId] = useState<string | null>(null);
  const [repo, setRepo] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<RegistryConnection | null>(null);
  const [busy, setBusy] = useState(false);
  const [scan, setScan] = useState<{ repository: string; tag: string } | null>(null);

  const loadList = useCallback(async (select?: string) => {
    try {
      const l = await api.registryList();
      setList(l);
      setListError(null);
      setId((cur) => select ?? (l.some((c) => c.id === cur) ? cur : (l[0]?.id ?? null)));
    } catch (e) {
      setListError(toAppError(e));
    }
  }, []);
  useEffect(() => void loadList(), [loadList]);
  useEffect(() => setRepo(null), [id]);

  const conn = list?.find((c) => c.id === id) ?? null;
  const repos = useListing(id, () => api.registryRepositories(id ?? ''));
  const tags = useListing(id && repo ? `${id}\n${repo}` : null, () => api.registryTags(id ?? '', repo ?? ''));
  const tagRows = names(tags.data)?.sort((a, b) => compareTags(a.name, b.name)) ?? null;

  const remove = async () => {
    if (!removing) return;
    setBusy(true);
    try {
      await api.registryRemove(removing.id);
      toast.push({ kind: 'ok', title: t('images.registry.removed', { name: removing.name }) });
      setRemoving(null);
      await loadList();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      setBusy(false);
    }
  };

  if (listError) return <ErrorState error={listError} onRetry={() => void loadList()} />;
  if (!list) return <div class="dt-state"><Spinner /></div>;

  return (
    <div class="reg-browser" data-testid="registry-browser" data-registry={conn?.name ?? ''}>
      <div class="cfg-toolbar">
        {list.length > 0 && (
          <label class="reg-picker">
            <span>{t('images.registry.connection')}</span>
            <select class="input" value={id ?? ''} onChange={(e) => setId(e.currentTarget.value)} data-testid="registry-picker">
              {list.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} — {c.spec.url}
                </option>
              ))}
            </select>
          </label>
        )}
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={() => setAdding(true)} data-testid="registry-add">
          <Icon name="plus" size={14} />
          {t('images.registry.add')}
        </button>
        {conn && (
          <>
            <button type="button" class="btn btn-sm" onClick={repos.reload} data-testid="registry-refresh">
              <Icon name="refresh" size={14} />
              {t('common.refresh')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => setRemoving(conn)} data-testid="registry-remove">
              <Icon name="trash" size={14} />
              {t('images.registry.remove')}
            </button>
          </>
        )}
      </div>
      {list.length === 0 ? (
        <div class="dt-state" data-testid="registry-none">
          {t('images.registry.none')}
        </div>
      ) : (
        <div class="reg-panes">
          <section class="reg-pane" aria-label={t('images.registry.repositories')}>
            <h3 class="reg-pane-title">{t('images.registry.repositories')}</h3>
            <DataTable
              label={t('images.registry.repositories')}
              columns={repoColumns(t, setRepo)}
              rows={names(repos.data)}
              rowKey={(r) => r.name}
              rowAttrs={(r) => ({ 'data-testid': 'registry-repo-row', 'data-name': r.name, 'aria-selected': r.name === repo ? 'true' : undefined })}
              rowClass={(r) => (r.name === repo ? 'row-selected' : undefined)}
              loading={repos.loading}
              error={repos.error}
              onRetry={repos.reload}
              filterable
              onActivate={(r) => setRepo(r.name)}
              empty={<div class="dt-state">{t('images.registry.noRepositories')}</div>}
              footer={<ListingFooter l={repos.data} />}
              testid="registry-repos"
            />
          </section>
          <section class="reg-pane" aria-label={repo ? t('images.registry.tags', { repository: repo }) : t('images.registry.pickRepository')}>
            {repo ? (
              <>
                <h3 class="reg-pane-title mono">{t('images.registry.tags', { repository: repo })}</h3>
                <DataTable
                  label={t('images.registry.tags', { repository: repo })}
                  columns={tagColumns(t, (tag) => setScan({ repository: repo, tag }))}
                  rows={tagRows}
                  rowKey={(r) => r.name}
                  rowAttrs={(r) => ({ 'data-testid': 'registry-tag-row', 'data-name': r.name })}
                  loading={tags.loading}
                  error={tags.error}
                  onRetry={tags.reload}
                  filterable
                  onActivate={(r) => setScan({ repository: repo, tag: r.name })}
                  empty={<div class="dt-state">{t('images.registry.noTags')}</div>}
                  footer={<ListingFooter l={tags.data} />}
                  testid="registry-tags"
                />
              </>
            ) : (
              <div class="dt-state">{t('images.registry.pickRepository')}</div>
            )}
          </section>
        </div>
      )}
      {adding && (
        <RegistryDialog
          onClose={() => setAdding(false)}
          onSaved={(c) => {
            setAdding(false);
            toast.push({ kind: 'ok', title: t('images.registry.saved', { name: c.name }) });
            // Shown at once: the list read back next must not leave the
            // previous registry's repositories clickable meanwhile.
            setList((l) => [...(l ?? []).filter((x) => x.id !== c.id), c]);
            setId(c.id);
            void loadList(c.id);
          }}
        />
      )}
      {removing && (
        <Modal
          title={t('images.registry.remove')}
          onClose={() => setRemoving(null)}
          testid="registry-remove-dialog"
          initialFocus="[data-testid=registry-remove-cancel]"
          footer={
            <>
              <button type="button" class="btn" onClick={() => setRemoving(null)} data-testid="registry-remove-cancel">
                {t('common.cancel')}
              </button>
              <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void remove()} data-testid="registry-remove-confirm">
                {busy && <Spinner size="sm" />}
                {t('images.registry.remove')}
              </button>
            </>
          }
        >
          <p>{t('images.registry.removeConfirm', { name: removing.name })}</p>
        </Modal>
      )}
      {scan && conn && (
        <ScanDrawer
          connId={conn.id}
          image={imageOf(conn.host, scan.repository, scan.tag)}
          onClose={() => setScan(null)}
          onScanned={onScanned}
          run={(task, onProgress) => calls.registryScan(conn.id, scan.repository, scan.tag, task, new Channel<ScanProgress>(onProgress))}
        />
      )}
    </div>
  );
}
