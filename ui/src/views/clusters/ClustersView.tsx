// Clusters workspace (Kubernetes): every context of every Kubernetes
// connection as a card, painted from the cache with its age, then kept live by
// watches (no polling); drill-down per cluster; apply a manifest to several.
import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { ClusterCapacity, Connection } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Tabs } from '../../components/Tabs';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useConnections } from '../../app/store';
import { useT } from '../../i18n';
import { NoConnection } from '../workspace/NoConnection';
import { ApplyDialog } from './ApplyDialog';
import { RolloutDialog } from './RolloutDialog';
import { BlueGreenPanel } from './BlueGreenPanel';
import { FailoverPanel } from './FailoverPanel';
import { ClusterCard } from './ClusterCard';
import { ClusterDetail } from './ClusterDetail';
import { FleetWorkloads } from './FleetWorkloads';
import { cardKey, matchesFilter, nextCardIndex, sortCards, summary, upsert, type Card } from './model';

export function ClustersView() {
  const { list } = useConnections();
  const kube = list?.filter((c) => c.spec.kind === 'kubernetes') ?? null;
  if (!kube || kube.length === 0) return <NoConnection view="clusters" />;
  return <Dashboard connections={kube} />;
}

function Dashboard({ connections }: { connections: Connection[] }) {
  const t = useT();
  const toast = useToast();
  const [cards, setCards] = useState<Map<string, Card>>(new Map());
  const [filter, setFilter] = useState('');
  const [refreshing, setRefreshing] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [applying, setApplying] = useState(false);
  const [rolling, setRolling] = useState(false);
  const [panel, setPanel] = useState<'bluegreen' | 'failover' | null>(null);
  const [mode, setMode] = useState<'cards' | 'fleet'>('cards');
  const [capacity, setCapacity] = useState<Map<string, ClusterCapacity>>(new Map());
  const grid = useRef<HTMLDivElement>(null);
  const ids = connections.map((c) => `${c.id}:${c.name}`).join(',');

  // Cached first (instant, with its age), then live watches; stopped on unmount.
  useEffect(() => {
    let live = true;
    const stops: (() => Promise<void>)[] = [];
    for (const c of connections) {
      api.clustersCached(c.id).then(
        (cached) => {
          if (!live || !cached) return;
          setCards((m) => cached.payload.reduce((acc, h) => upsert(acc, c.id, c.name, h, true), m));
        },
        () => {},
      );
      api
        .clustersWatch(c.id, (h) => live && setCards((m) => upsert(m, c.id, c.name, h)))
        .then(
          (stop) => {
            if (live) stops.push(stop);
            else void stop();
          },
          (e) => live && toast.push({ kind: 'error', title: t('clusters.watchFailed', { name: c.name, message: toAppError(e).message }) }),
        );
    }
    return () => {
      live = false;
      for (const stop of stops) void stop().catch(() => {});
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- re-subscribes only when the set of connections (ids and names) changes
  }, [ids]);

  // Capacity (requests vs allocatable) per context, read at start and on refresh.
  const readCapacity = () =>
    Promise.all(
      connections.map((c) =>
        api.clustersCapacity(c.id).then(
          (list) => setCapacity((m) => list.reduce((acc, x) => new Map(acc).set(cardKey(c.id, x.context), x), m)),
          () => {},
        ),
      ),
    );
  useEffect(() => {
    void readCapacity();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- read again only when the set of connections changes
  }, [ids]);

  const refresh = async () => {
    setRefreshing(true);
    void readCapacity();
    await Promise.all(
      connections.map((c) =>
        api.clustersHealth(c.id).then(
          (list) => setCards((m) => list.reduce((acc, h) => upsert(acc, c.id, c.name, h), m)),
          (e) => toast.push({ kind: 'error', title: t('clusters.refreshFailed', { name: c.name, message: toAppError(e).message }) }),
        ),
      ),
    );
    setRefreshing(false);
  };

  const all = useMemo(() => sortCards([...cards.values()]), [cards]);
  const shown = all.filter((c) => matchesFilter(c, filter));
  const counts = summary(all);

  const onCardKey = (index: number) => (e: TargetedKeyboardEvent<HTMLElement>) => {
    const el = grid.current;
    const columns = el ? Math.max(1, getComputedStyle(el).gridTemplateColumns.split(' ').length) : 1;
    const next = nextCardIndex(e.key, index, shown.length, columns);
    if (next === null) return;
    e.preventDefault();
    el?.querySelectorAll<HTMLElement>('[data-testid=cluster-card]')[next]?.focus();
  };

  const openCard = open ? cards.get(open) : undefined;
  return (
    <section class="view view-clusters" data-testid="view-clusters">
      <Tabs tabs={['cards', 'fleet'] as const} value={mode} onChange={setMode} testid="clusters-mode" label={(k) => (k === 'cards' ? t('clustersFleet.cardsTab') : t('clustersFleet.tab'))} />
      {mode === 'fleet' ? (
        <FleetWorkloads connections={connections} />
      ) : (
        <>
          <div class="cfg-toolbar" data-testid="clusters-summary" data-healthy={counts.healthy} data-degraded={counts.degraded} data-unreachable={counts.unreachable}>
            <span class="cl-sum cl-sum-unreachable">{t('clusters.summary.unreachable', { count: counts.unreachable })}</span>
            <span class="cl-sum cl-sum-degraded">{t('clusters.summary.degraded', { count: counts.degraded })}</span>
            <span class="cl-sum cl-sum-healthy">{t('clusters.summary.healthy', { count: counts.healthy })}</span>
            <label class="dt-filter">
              <Icon name="search" size={14} class="dt-filter-icon" />
              <input type="search" class="input input-sm" data-role="table-filter" data-testid="clusters-filter" placeholder={t('clusters.filter')} aria-label={t('clusters.filter')} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
            </label>
            <span class="toolbar-spacer" />
            <span class="cl-live muted" title={t('clusters.liveHint')}>
              <span class="badge-dot" aria-hidden="true" />
              {t('clusters.live')}
            </span>
            <button type="button" class="btn btn-sm" onClick={() => void refresh()} disabled={refreshing} data-testid="clusters-refresh">
              {refreshing ? <Spinner size="sm" /> : <Icon name="refresh" size={14} />}
              {t('common.refresh')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => setApplying(true)} disabled={cards.size === 0} data-testid="clusters-apply-open">
              <Icon name="upload" size={14} />
              {t('clusters.apply.button')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => setRolling(true)} disabled={cards.size === 0} data-testid="clusters-rollout-open">
              <Icon name="play" size={14} />
              {t('rollout.button')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => setPanel('bluegreen')} disabled={cards.size === 0} data-testid="clusters-bluegreen-open">
              {t('bluegreen.button')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => setPanel('failover')} disabled={cards.size === 0} data-testid="clusters-failover-open">
              {t('failover.button')}
            </button>
          </div>
          {all.length === 0 ? (
            <div class="dt-state">
              <Spinner size="md" /> {t('clusters.connecting')}
            </div>
          ) : shown.length === 0 ? (
            <EmptyState icon="search" title={t('clusters.noMatch', { filter })} compact actions={<button type="button" class="btn btn-sm" onClick={() => setFilter('')}>{t('table.clearFilter')}</button>} />
          ) : (
            <div class="cl-grid" ref={grid}>
              {shown.map((c, i) => {
                const key = cardKey(c.connectionId, c.health.context);
                return <ClusterCard key={key} card={c} capacity={capacity.get(key)} onOpen={() => setOpen(key)} onKeyDown={onCardKey(i)} />;
              })}
            </div>
          )}
        </>
      )}
      {openCard && <ClusterDetail card={openCard} capacity={open ? capacity.get(open) : undefined} onClose={() => setOpen(null)} />}
      {applying && <ApplyDialog cards={cards} onClose={() => setApplying(false)} />}
      {rolling && <RolloutDialog cards={cards} onClose={() => setRolling(false)} />}
      {panel === 'bluegreen' && <BlueGreenPanel cards={cards} onClose={() => setPanel(null)} />}
      {panel === 'failover' && <FailoverPanel cards={cards} onClose={() => setPanel(null)} />}
    </section>
  );
}
