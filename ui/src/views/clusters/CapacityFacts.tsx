// A cluster's capacity: CPU and memory requested against the allocatable of
// its Ready, schedulable nodes, as two bars (compact on a card, with the
// node/pod counts and the most free on one node in the drill-down).
import type { ClusterCapacity } from '../../api/types';
import { useT } from '../../i18n';
import { cores, memory, percent, pressure } from './fleet';

function Bar({ label, requested, allocatable, value, testid }: { label: string; requested: number; allocatable: number; value: string; testid: string }) {
  const pct = percent(requested, allocatable);
  const width = Math.min(100, pct ?? 0);
  const state = pct === null ? 'error' : pct > 90 ? 'error' : pct >= 70 ? 'warn' : 'ok';
  return (
    <div class="cap-row" data-testid={testid} data-percent={pct ?? ''}>
      <span class="cap-label muted">{label}</span>
      <span class={`cap-bar cap-bar-${state}`} aria-hidden="true">
        <span style={{ width: `${width}%` }} />
      </span>
      <span class="cap-value mono">{value}</span>
    </div>
  );
}

export function CapacityFacts({ capacity, detailed }: { capacity: ClusterCapacity | undefined; detailed?: boolean }) {
  const t = useT();
  if (!capacity) return null;
  const c = capacity.capacity;
  if (!c) {
    return (
      <p class="cap-none muted" data-testid="cluster-capacity" data-state="error" title={capacity.error?.message}>
        {t('clustersFleet.capacity.unavailable', { message: capacity.error?.message ?? '' })}
      </p>
    );
  }
  const value = (req: string, alloc: string, pct: number | null) => t('clustersFleet.capacity.value', { requested: req, allocatable: alloc, percent: pct ?? '—' });
  return (
    <div class={`cap${detailed ? ' cap-detailed' : ''}`} data-testid="cluster-capacity" data-state={pressure(c)} data-cpu-requested={c.cpu_requested_milli} data-cpu-allocatable={c.cpu_allocatable_milli} title={t('clustersFleet.capacity.hint')}>
      {c.nodes === 0 ? (
        <p class="cap-none cl-bad">{t('clustersFleet.capacity.noNodes')}</p>
      ) : (
        <>
          <Bar label={t('clustersFleet.capacity.cpu')} requested={c.cpu_requested_milli} allocatable={c.cpu_allocatable_milli} value={value(cores(c.cpu_requested_milli), cores(c.cpu_allocatable_milli), percent(c.cpu_requested_milli, c.cpu_allocatable_milli))} testid="capacity-cpu" />
          <Bar label={t('clustersFleet.capacity.memory')} requested={c.memory_requested} allocatable={c.memory_allocatable} value={value(memory(c.memory_requested), memory(c.memory_allocatable), percent(c.memory_requested, c.memory_allocatable))} testid="capacity-memory" />
        </>
      )}
      {detailed && (
        <p class="cap-notes muted">
          {t('clustersFleet.capacity.pods', { count: c.pods })} {t('clustersFleet.capacity.nodes', { count: c.nodes })}
          {c.nodes > 0 && <> · {t('clustersFleet.capacity.freeOnNode', { cpu: cores(c.node_cpu_free_milli), memory: memory(c.node_memory_free) })}</>}
          {c.nodes_excluded > 0 && <> · {t('clustersFleet.capacity.excluded', { count: c.nodes_excluded })}</>}
        </p>
      )}
    </div>
  );
}
