// Images workspace (Docker): the engine's images and containers (cached for
// an instant first paint), scans with progress and their reports, scan of
// every running container, the fleet (every scanned image's decision, scan all,
// what advisory updates changed), scan history, the advisory database and the policy.
// With no Docker connection the engine's tabs are left out and the rest works:
// registries (add, browse, scan a tag: no engine needed), fleet, history, policy.
// State: useCachedThenLive (inventory), useScanHistory, useRunningScan; the tab and dialogs here.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { Connection, ScanReport, ScanSummary } from '../../api/types';
import { useCachedThenLive } from '../../app/cachedThenLive';
import { useRememberedConnection } from '../../app/lastConnection';
import { useConnections, useNav, useSettings } from '../../app/store';
import { ConnectionPicker } from '../../components/ConnectionPicker';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { Tabs } from '../../components/Tabs';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { NoConnection } from '../workspace/NoConnection';
import { AdvisoriesDialog } from './AdvisoriesDialog';
import { FleetView } from './FleetView';
import { containerColumns, historyColumns, imageColumns } from './columns';
import { imageRef, latestByImage } from './model';
import { PolicyPanel } from './PolicyPanel';
import { RegistryBrowser } from './registry/RegistryBrowser';
import { RunningScanBar } from './RunningScanBar';
import { ScanDrawer } from './ScanDrawer';
import { useRunningScan } from './useRunningScan';
import { useScanHistory } from './useScanHistory';
import '../../styles/registry.css';

const LAST_CONNECTION_KEY = 'opsdeck.images.connection';
type Tab = 'images' | 'containers' | 'fleet' | 'history' | 'registries' | 'policy';
const ENGINE_TABS = ['images', 'containers', 'fleet', 'history', 'registries', 'policy'] as const;
/** Without a Docker engine: what needs none (a registry scan reads the registry). */
const NO_ENGINE_TABS = ['registries', 'fleet', 'history', 'policy'] as const;
// Stand-ins for the inventory calls when there is no engine to ask (stable: hook dependencies).
const noCachedInventory = () => Promise.resolve(null);
const noInventory = () => Promise.resolve({ images: [], containers: [] });

export function ImagesView() {
  const { list } = useConnections();
  const docker = list?.filter((c) => c.spec.kind === 'docker') ?? null;
  if (!docker) return <NoConnection view="images" />;
  return <ImagesWorkspace connections={docker} />;
}

/** What the workspace shows in place of the engine picker when there is no Docker connection. */
function NoEngine() {
  const t = useT();
  const { navigate } = useNav();
  return (
    <div class="img-no-engine" role="note" data-testid="images-no-engine">
      <Icon name="info" size={14} />
      <span>{t('images.registry.noEngine')}</span>
      <button type="button" class="btn btn-sm" onClick={() => navigate('connections', { addKind: 'docker' })} data-testid="images-add-docker">
        <Icon name="plus" size={14} />
        {t('images.registry.noEngineAdd')}
      </button>
    </div>
  );
}

function ImagesWorkspace({ connections }: { connections: Connection[] }) {
  const t = useT();
  const toast = useToast();
  const { settings } = useSettings();
  const [conn, choose] = useRememberedConnection(LAST_CONNECTION_KEY, connections);
  const engine = connections.length > 0;
  const id = engine ? conn.id : '';
  const [tab, setTab] = useState<Tab>(engine ? 'images' : 'registries');
  const { data: inventory, cachedAt, loading, error, refresh } = useCachedThenLive(
    id,
    engine ? api.imagesCached : noCachedInventory,
    engine ? api.imagesInventory : noInventory,
  );
  const { history, error: historyError, load: reloadHistory } = useScanHistory(id);
  // Bumped whenever scans, imports or policy changes may have changed the fleet.
  const [fleetVersion, setFleetVersion] = useState(0);
  const loadHistory = () => {
    setFleetVersion((v) => v + 1);
    return reloadHistory();
  };
  const [scan, setScan] = useState<{ image: string; stored?: { id: number; report: ScanReport } } | null>(null);
  const { running, start: scanRunning } = useRunningScan(id, { onScanned: () => setTab((tb) => (tb === 'fleet' ? tb : 'history')), onEnded: loadHistory });
  const [advisories, setAdvisories] = useState(false);

  const openStored = async (s: Pick<ScanSummary, 'id' | 'image'>) => {
    try {
      const report = await api.imagesReport(s.id);
      setScan({ image: s.image, stored: { id: s.id, report } });
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  const latest = history ? latestByImage(history) : new Map<string, ScanSummary>();
  const scanImage = (image: string) => setScan({ image });

  return (
    <section class="view view-images" data-testid="view-images">
      <div class="cfg-toolbar">
        {engine ? (
          <ConnectionPicker icon="images" label={t('images.connection')} connections={connections} value={id} onChange={choose} testid="images" cachedAt={cachedAt} loading={loading} />
        ) : (
          <NoEngine />
        )}
        <span class="toolbar-spacer" />
        {engine && (
          <>
            <button type="button" class="btn btn-sm" onClick={refresh} data-testid="images-refresh">
              <Icon name="refresh" size={14} />
              {t('common.refresh')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => void scanRunning()} disabled={!!running} data-testid="images-scan-running">
              <Icon name="play" size={14} />
              {t('images.running.button')}
            </button>
          </>
        )}
        <button type="button" class="btn btn-sm" onClick={() => setAdvisories(true)} data-testid="images-advisories-open">
          <Icon name="upload" size={14} />
          {t('images.advisories.button')}
        </button>
      </div>
      {running && <RunningScanBar running={running} />}
      <Tabs tabs={engine ? ENGINE_TABS : NO_ENGINE_TABS} value={tab} onChange={setTab} testid="images-tab" label={(k) => t(`images.tab.${k}`)} />
      <div class="img-body">
        {engine && tab === 'images' && (
          <DataTable
            label={t('images.tab.images')}
            columns={imageColumns(t, settings.language, latest, scanImage)}
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
        {engine && tab === 'containers' && (
          <DataTable
            label={t('images.tab.containers')}
            columns={containerColumns(t, latest, scanImage)}
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
        {tab === 'fleet' && (
          <FleetView
            version={fleetVersion}
            language={settings.language}
            scanning={!!running}
            onScanAll={engine ? () => void scanRunning(true) : undefined}
            onOpen={(scanId, image) => void openStored({ id: scanId, image })}
          />
        )}
        {tab === 'history' && (
          <DataTable
            label={t('images.tab.history')}
            columns={historyColumns(t, settings.language)}
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
        {tab === 'registries' && <RegistryBrowser onScanned={loadHistory} />}
        {tab === 'policy' && <PolicyPanel onSaved={loadHistory} />}
      </div>
      {scan && <ScanDrawer connId={id} image={scan.image} stored={scan.stored} onClose={() => setScan(null)} onScanned={loadHistory} />}
      {advisories && <AdvisoriesDialog onClose={() => setAdvisories(false)} onImported={loadHistory} />}
    </section>
  );
}
