// Images workspace (Docker): the engine's images and containers (cached for
// an instant first paint), scans with progress and their reports, scan of
// every running container, scan history, the advisory database and the policy.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Connection } from '../../api/types';
import type { ContainerRow, ImageProgress, ImageRow, ScanReport, ScanSummary } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { Tabs } from '../../components/Tabs';
import { useCachedThenLive } from '../../app/cachedThenLive';
import { useRememberedConnection } from '../../app/lastConnection';
import { useConnections, useSettings } from '../../app/store';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { NoConnection } from '../workspace/NoConnection';
import { AdvisoriesDialog } from './AdvisoriesDialog';
import { decisionBadge, formatSize, imageRef, latestByImage, newTaskId, progressPercent, shortId, widthRef } from './model';
import { PolicyPanel } from './PolicyPanel';
import { ScanDrawer } from './ScanDrawer';

const LAST_CONNECTION_KEY = 'opsdeck.images.connection';
type Tab = 'images' | 'containers' | 'history' | 'policy';

export function ImagesView() {
  const { list } = useConnections();
  const docker = list?.filter((c) => c.spec.kind === 'docker') ?? null;
  if (!docker || docker.length === 0) return <NoConnection view="images" />;
  return <ImagesWorkspace connections={docker} />;
}

function ImagesWorkspace({ connections }: { connections: Connection[] }) {
  const t = useT();
  const toast = useToast();
  const { settings } = useSettings();
  const [conn, choose] = useRememberedConnection(LAST_CONNECTION_KEY, connections);
  const id = conn.id;
  const [tab, setTab] = useState<Tab>('images');
  const { data: inventory, cachedAt, loading, error, refresh } = useCachedThenLive(id, api.imagesCached, api.imagesInventory);
  const [history, setHistory] = useState<ScanSummary[] | null>(null);
  const [historyError, setHistoryError] = useState<AppError | null>(null);
  const [scan, setScan] = useState<{ image: string; stored?: { id: number; report: ScanReport } } | null>(null);
  const [running, setRunning] = useState<{ task: string; progress: ImageProgress | null } | null>(null);
  const [advisories, setAdvisories] = useState(false);

  const loadHistory = useCallback(() => {
    api.imagesHistory(null, 500).then(
      (h) => {
        setHistory(h.filter((s) => s.connection_id === id || s.connection_id === null));
        setHistoryError(null);
      },
      (e) => setHistoryError(toAppError(e)),
    );
  }, [id]);

  // The inventory (cached first, then the engine) reloads itself on a connection change; the history with it.
  useEffect(loadHistory, [loadHistory]);

  // Leaving the view cancels a scan of all running containers.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cancels the scan of the task that was running, once it ends or the view closes
  useEffect(() => () => void (running && api.imagesCancel(running.task).catch(() => {})), [running?.task]);

  const scanRunning = async () => {
    const task = newTaskId();
    setRunning({ task, progress: null });
    try {
      const outcomes = await api.imagesScanRunning(id, task, (p) => setRunning((r) => (r && r.task === task ? { task, progress: p } : r)));
      const blocked = outcomes.filter((o) => o.scan?.decision === 'BLOCK').length;
      const failed = outcomes.filter((o) => o.error).length;
      toast.push({ kind: failed ? 'error' : 'ok', title: t('images.running.done', { count: outcomes.length, blocked, failed }) });
      setTab('history');
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      setRunning(null);
      loadHistory();
    }
  };

  const openStored = async (s: ScanSummary) => {
    try {
      const report = await api.imagesReport(s.id);
      setScan({ image: s.image, stored: { id: s.id, report } });
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  const latest = history ? latestByImage(history) : new Map<string, ScanSummary>();
  const decisionCell = (imageId: string) => {
    const s = latest.get(imageId);
    return s ? (
      <StatusBadge state={decisionBadge(s.decision)} title={formatDateTime(s.scanned_at)}>
        {s.decision} · {s.risk_score}
      </StatusBadge>
    ) : (
      <span class="muted">{t('images.notScanned')}</span>
    );
  };

  const imageColumns: Column<ImageRow>[] = [
    { id: 'ref', header: t('images.col.image'), cell: (r) => <span class="mono">{r.tags.join(', ') || t('images.untagged')}</span>, sortValue: (r) => imageRef(r), filterValue: (r) => `${r.tags.join(' ')} ${r.id}` },
    { id: 'id', header: t('images.col.id'), cell: (r) => <span class="mono muted">{shortId(r.id)}</span>, filterValue: (r) => r.id },
    { id: 'size', header: t('images.col.size'), cell: (r) => formatSize(r.size), sortValue: (r) => r.size, class: 'col-num' },
    { id: 'created', header: t('images.col.created'), cell: (r) => formatRelative(new Date(r.created * 1000).toISOString(), settings.language), sortValue: (r) => r.created, class: 'col-time' },
    { id: 'containers', header: t('images.col.containers'), cell: (r) => r.containers, sortValue: (r) => r.containers, class: 'col-num' },
    { id: 'decision', header: t('images.col.decision'), cell: (r) => decisionCell(r.id), sortValue: (r) => latest.get(r.id)?.risk_score ?? -1 },
    {
      id: 'actions',
      header: '',
      cell: (r) => (
        <button type="button" class="btn btn-sm" onClick={() => setScan({ image: imageRef(r) })} data-testid="image-scan">
          <Icon name="play" size={12} />
          {t('images.scan.button')}
        </button>
      ),
      class: 'col-actions',
    },
  ];
  const containerColumns: Column<ContainerRow>[] = [
    { id: 'name', header: t('images.col.container'), cell: (c) => <span class="mono">{c.name}</span>, sortValue: (c) => c.name, filterValue: (c) => c.name },
    { id: 'image', header: t('images.col.image'), cell: (c) => <span class="mono">{c.image}</span>, sortValue: (c) => c.image, filterValue: (c) => c.image },
    { id: 'state', header: t('images.col.state'), cell: (c) => <StatusBadge state={c.state === 'running' ? 'ok' : 'never'}>{c.state}</StatusBadge>, sortValue: (c) => c.state, filterValue: (c) => c.state },
    { id: 'status', header: t('images.col.status'), cell: (c) => c.status, filterValue: (c) => c.status },
    { id: 'decision', header: t('images.col.decision'), cell: (c) => decisionCell(c.image_id) },
    {
      id: 'actions',
      header: '',
      cell: (c) => (
        <button type="button" class="btn btn-sm" onClick={() => setScan({ image: c.image_id })}>
          <Icon name="play" size={12} />
          {t('images.scan.button')}
        </button>
      ),
      class: 'col-actions',
    },
  ];
  const historyColumns: Column<ScanSummary>[] = [
    { id: 'time', header: t('images.col.scanned'), cell: (s) => <span title={formatDateTime(s.scanned_at)}>{formatRelative(s.scanned_at, settings.language)}</span>, sortValue: (s) => s.scanned_at, class: 'col-time' },
    { id: 'image', header: t('images.col.image'), cell: (s) => <span class="mono">{s.image}</span>, sortValue: (s) => s.image, filterValue: (s) => `${s.image} ${s.image_id}` },
    { id: 'decision', header: t('images.col.decision'), cell: (s) => <StatusBadge state={decisionBadge(s.decision)}>{s.decision}</StatusBadge>, sortValue: (s) => s.decision, filterValue: (s) => s.decision },
    { id: 'risk', header: t('images.col.risk'), cell: (s) => s.risk_score, sortValue: (s) => s.risk_score, class: 'col-num' },
  ];

  const pct = running ? progressPercent(running.progress) : null;
  return (
    <section class="view view-images" data-testid="view-images">
      <div class="cfg-toolbar">
        <ConnectionPicker icon="images" label={t('images.connection')} connections={connections} value={id} onChange={choose} testid="images" cachedAt={cachedAt} loading={loading} />
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={refresh} data-testid="images-refresh">
          <Icon name="refresh" size={14} />
          {t('common.refresh')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => void scanRunning()} disabled={!!running} data-testid="images-scan-running">
          <Icon name="play" size={14} />
          {t('images.running.button')}
        </button>
        <button type="button" class="btn btn-sm" onClick={() => setAdvisories(true)} data-testid="images-advisories-open">
          <Icon name="upload" size={14} />
          {t('images.advisories.button')}
        </button>
      </div>
      {running && (
        <div class="img-running" data-testid="images-running-progress">
          <Spinner size="sm" />
          <span>
            {running.progress ? t('images.running.progress', { index: running.progress.index + 1, total: running.progress.total, image: running.progress.image }) : t('images.running.starting')}
          </span>
          <div class="img-bar img-bar-sm">
            <div class="img-bar-fill" ref={widthRef(pct ?? 10)} />
          </div>
          <button type="button" class="btn btn-sm" onClick={() => void api.imagesCancel(running.task)}>
            {t('common.cancel')}
          </button>
        </div>
      )}
      <Tabs tabs={['images', 'containers', 'history', 'policy'] as const} value={tab} onChange={setTab} testid="images-tab" label={(k) => t(`images.tab.${k}`)} />
      <div class="img-body">
        {tab === 'images' && (
          <DataTable
            label={t('images.tab.images')}
            columns={imageColumns}
            rows={inventory?.images ?? (error ? null : null)}
            rowKey={(r) => r.id}
            rowAttrs={(r) => ({ 'data-testid': 'image-row', 'data-ref': imageRef(r) })}
            loading={loading}
            error={error}
            onRetry={refresh}
            filterable
            initialSort={{ column: 'ref', dir: 'asc' }}
            onActivate={(r) => setScan({ image: imageRef(r) })}
            empty={<div class="dt-state">{t('images.empty')}</div>}
          />
        )}
        {tab === 'containers' && (
          <DataTable
            label={t('images.tab.containers')}
            columns={containerColumns}
            rows={inventory?.containers ?? null}
            rowKey={(c) => c.id}
            loading={loading}
            error={error}
            onRetry={refresh}
            filterable
            initialSort={{ column: 'state', dir: 'desc' }}
            empty={<div class="dt-state">{t('images.noContainers')}</div>}
          />
        )}
        {tab === 'history' && (
          <DataTable
            label={t('images.tab.history')}
            columns={historyColumns}
            rows={history}
            rowKey={(s) => s.id}
            rowAttrs={(s) => ({ 'data-testid': 'history-row', 'data-decision': s.decision })}
            error={historyError}
            onRetry={loadHistory}
            filterable
            initialSort={{ column: 'time', dir: 'desc' }}
            onActivate={(s) => void openStored(s)}
            empty={<div class="dt-state">{t('images.noHistory')}</div>}
          />
        )}
        {tab === 'policy' && <PolicyPanel onSaved={loadHistory} />}
      </div>
      {scan && <ScanDrawer connId={id} image={scan.image} stored={scan.stored} onClose={() => setScan(null)} onScanned={loadHistory} />}
      {advisories && <AdvisoriesDialog onClose={() => setAdvisories(false)} onImported={loadHistory} />}
    </section>
  );
}
