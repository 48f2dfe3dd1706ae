// The Overview, the home screen: one tile per platform (VMs, Clusters,
// Images, Config) and the recent team activity, painted from the cache at
// once, then each refreshed live. A tile opens its workspace; a platform
// with no connection asks for one instead of showing an error.
import type { ComponentChildren } from 'preact';
import { useLayoutEffect } from 'preact/hooks';
import type { Kind, TileName, TileStatus } from '../../api/types';
import { useNav, useSettings } from '../../app/store';
import type { ViewName } from '../../app/views';
import { ErrorState } from '../../components/ErrorState';
import { Icon, type IconName } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { markPainted } from '../../util/marks';
import { formatRelative } from '../../util/time';
import { useOverview } from './useOverview';

interface TileProps {
  name: TileName;
  icon: IconName;
  view: ViewName;
  kind?: Kind;
  status: TileStatus;
  refreshing: boolean;
  error?: string;
  /** The worst state shown: colours the tile's top edge. */
  tone: 'ok' | 'warn' | 'error' | 'none';
  children: ComponentChildren;
}

function Tile({ name, icon, view, kind, status, refreshing, error, tone, children }: TileProps) {
  const t = useT();
  const { navigate } = useNav();
  const { settings } = useSettings();
  const connected = !kind || status.connections > 0;
  const open = () => (connected ? navigate(view) : navigate('connections', { addKind: kind }));
  const source =
    status.source === 'live'
      ? t('overview.live')
      : status.as_of
        ? t('overview.cachedAt', { when: formatRelative(status.as_of, settings.language) })
        : t('overview.notRead');
  return (
    <article class={`ov-tile ov-tone-${connected ? tone : 'none'}`} data-testid={`overview-tile-${name}`} data-source={status.source}>
      <header class="ov-tile-head">
        <h2 class="ov-tile-title">
          <Icon name={icon} size={16} />
          {t(`overview.tile.${name}`)}
        </h2>
        {connected && (
          <span class="ov-source" title={status.as_of ?? undefined} data-testid={`overview-source-${name}`}>
            {refreshing ? <Spinner size="sm" label={t('overview.refreshing')} /> : <span class={`ov-dot ov-dot-${status.source}`} />}
            {source}
          </span>
        )}
      </header>
      {connected ? (
        <div class="ov-tile-body">{children}</div>
      ) : (
        <div class="ov-connect" data-testid={`overview-connect-${name}`}>
          <p>{t(`overview.connect.${name}`)}</p>
        </div>
      )}
      {connected && (error || status.problems.length > 0) && (
        <ul class="ov-problems" data-testid={`overview-problems-${name}`}>
          {error && <li>{error}</li>}
          {status.problems.slice(0, 3).map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <footer class="ov-tile-foot">
        <button type="button" class={`btn btn-sm${connected ? '' : ' btn-primary'}`} onClick={open} data-testid={`overview-open-${name}`}>
          {connected ? t(`overview.open.${name}`) : t(`overview.add.${name}`)}
          <Icon name="chevronRight" size={14} />
        </button>
      </footer>
    </article>
  );
}

function Figure({ n, label, tone, testid }: { n: number; label: string; tone?: 'ok' | 'warn' | 'error'; testid?: string }) {
  return (
    <div class={`ov-figure${tone && n > 0 ? ` ov-figure-${tone}` : ''}`} data-testid={testid}>
      <span class="ov-n">{n}</span>
      <span class="ov-label">{label}</span>
    </div>
  );
}

export function OverviewView() {
  const t = useT();
  const { settings } = useSettings();
  const { data, error, pending, tileErrors, reload } = useOverview();
  // Read back by the benchmark (tests/src/bin/bench-overview.rs).
  const painted = data !== null;
  const live = painted && pending.size === 0;
  useLayoutEffect(() => {
    if (painted) markPainted('opsdeck:overview-cached');
  }, [painted]);
  useLayoutEffect(() => {
    if (live) markPainted('opsdeck:overview-live');
  }, [live]);

  if (error && !data)
    return (
      <section class="view" data-testid="view-overview">
        <ErrorState error={error} onRetry={reload} />
      </section>
    );
  if (!data)
    return (
      <section class="view" data-testid="view-overview">
        <div class="dt-state">
          <Spinner size="md" /> {t('common.loading')}
        </div>
      </section>
    );

  const { vms, clusters, images, config, activity } = data;
  const tile = (name: TileName) => ({ refreshing: pending.has(name), error: tileErrors[name] });
  return (
    <section class="view view-overview" data-testid="view-overview" data-ready={pending.size === 0 ? 'true' : 'false'}>
      <div class="cfg-toolbar">
        <span class="ov-me">{t('overview.me', { me: data.me })}</span>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={reload} disabled={pending.size > 0} data-testid="overview-refresh">
          <Icon name="refresh" size={14} />
          {t('common.refresh')}
        </button>
      </div>
      <div class="ov-grid">
        <Tile name="vms" icon="vms" view="vms" kind="vsphere" status={vms.status} tone={vms.failed > 0 ? 'error' : vms.awaiting + vms.leases_ending > 0 ? 'warn' : 'ok'} {...tile('vms')}>
          <div class="ov-figures">
            <Figure n={vms.vms} label={t('overview.vms.vms', { on: vms.powered_on })} />
            <Figure n={vms.awaiting} label={t('overview.vms.awaiting')} tone="warn" testid="overview-vms-awaiting" />
            <Figure n={vms.leases_ending} label={t('overview.vms.leases')} tone="warn" testid="overview-vms-leases" />
            <Figure n={vms.failed} label={t('overview.vms.failed')} tone="error" />
          </div>
          <ul class="ov-items">
            {vms.awaiting_items.map((r) => (
              <li key={r.id}>
                <span class="ov-item-main">{r.name}</span>
                <span class="ov-item-sub">{t('overview.vms.awaitingItem', { who: r.requester, dept: r.department, state: t(`vms.state.${r.state}`) })}</span>
              </li>
            ))}
            {vms.lease_items.map((l) => (
              <li key={`lease-${l.id}`}>
                <span class="ov-item-main">{l.name}</span>
                <span class="ov-item-sub">{t('overview.vms.leaseItem', { count: l.days_left, day: l.lease_end })}</span>
              </li>
            ))}
          </ul>
          {vms.mine_open > 0 && <p class="ov-note">{t('overview.vms.mine', { count: vms.mine_open })}</p>}
        </Tile>
        <Tile name="clusters" icon="clusters" view="clusters" kind="kubernetes" status={clusters.status} tone={clusters.unreachable > 0 ? 'error' : clusters.degraded > 0 ? 'warn' : 'ok'} {...tile('clusters')}>
          <div class="ov-figures">
            <Figure n={clusters.healthy} label={t('overview.clusters.healthy')} tone="ok" testid="overview-clusters-healthy" />
            <Figure n={clusters.degraded} label={t('overview.clusters.degraded')} tone="warn" testid="overview-clusters-degraded" />
            <Figure n={clusters.unreachable} label={t('overview.clusters.unreachable')} tone="error" testid="overview-clusters-unreachable" />
          </div>
          <ul class="ov-items">
            {clusters.items.map((c) => (
              <li key={`${c.connection_id}/${c.context}`}>
                <span class={`ov-item-main ov-verdict-${c.verdict}`}>{c.context}</span>
                <span class="ov-item-sub ov-item-reason" title={c.reason}>
                  {c.reason || t(`overview.clusters.${c.verdict}`)}
                </span>
              </li>
            ))}
          </ul>
        </Tile>
        <Tile name="images" icon="images" view="images" kind="docker" status={images.status} tone={images.blocked > 0 ? 'error' : images.warned > 0 ? 'warn' : 'ok'} {...tile('images')}>
          <div class="ov-figures">
            <Figure n={images.images} label={t('overview.images.images', { running: images.running })} />
            <Figure n={images.blocked} label={t('overview.images.blocked')} tone="error" testid="overview-images-blocked" />
            <Figure n={images.warned} label={t('overview.images.warned')} tone="warn" />
            <Figure n={images.allowed} label={t('overview.images.allowed')} tone="ok" />
          </div>
          <ul class="ov-items">
            {images.items.map((i) => (
              <li key={i.image_id}>
                <span class="ov-item-main mono">{i.image}</span>
                <span class="ov-item-sub">{t('overview.images.risk', { risk: i.risk_score })}</span>
              </li>
            ))}
          </ul>
        </Tile>
        <Tile name="config" icon="config" view="config" kind="etcd" status={config.status} tone={config.waiting > 0 ? 'warn' : 'ok'} {...tile('config')}>
          <div class="ov-figures">
            <Figure n={config.waiting} label={t('overview.config.waiting')} tone="warn" testid="overview-config-waiting" />
            <Figure n={config.mine_waiting} label={t('overview.config.mine')} />
            <Figure n={config.approved} label={t('overview.config.approved')} />
          </div>
          <ul class="ov-items">
            {config.items.map((c) => (
              <li key={c.id}>
                <span class="ov-item-main">{c.comment || c.id}</span>
                <span class="ov-item-sub">{t('overview.config.item', { who: c.author, count: c.keys })}</span>
              </li>
            ))}
          </ul>
        </Tile>
        <Tile name="activity" icon="audit" view="audit" status={activity.status} tone={activity.items.some((a) => !a.ok) ? 'warn' : 'ok'} {...tile('activity')}>
          <p class="ov-note">{t(activity.trail === 'team' ? 'overview.activity.team' : 'overview.activity.local')}</p>
          <ul class="ov-items ov-activity" data-testid="overview-activity">
            {activity.items.length === 0 && <li class="ov-item-sub">{t('overview.activity.empty')}</li>}
            {activity.items.map((a, i) => (
              <li key={`${a.at}-${i}`}>
                <span class={`ov-item-main${a.ok ? '' : ' ov-failed'}`}>
                  {a.action} <span class="mono">{a.target}</span>
                </span>
                <span class="ov-item-sub">
                  {a.actor} · {formatRelative(a.at, settings.language)}
                </span>
              </li>
            ))}
          </ul>
        </Tile>
      </div>
    </section>
  );
}
