import { describe, expect, it } from 'vitest';
import type { Capacity, FleetReport, FleetWorkload } from '../../api/types';
import { cores, drifted, driftRank, fleetCell, fleetContexts, imageTag, memory, percent, pressure } from './fleet';

const web: FleetWorkload = {
  namespace: 'shop',
  name: 'web',
  placements: [
    { context: 'a', replicas: 3, ready: 3, images: ['web=registry.local/web:1'] },
    { context: 'b', replicas: 3, ready: 2, images: ['web=registry.local/web:2'] },
    { context: 'c', replicas: 5, ready: 5, images: ['web=registry.local/web:1'] },
  ],
  missing: [],
  image_drift: true,
  replica_drift: true,
};
const db: FleetWorkload = {
  namespace: 'shop',
  name: 'db',
  placements: [{ context: 'a', replicas: 1, ready: 1, images: ['pg=pg:16'] }],
  missing: ['b', 'c'],
  image_drift: false,
  replica_drift: false,
};
const report: FleetReport = {
  contexts: ['a', 'b', 'c'],
  errors: [{ context: 'dead', code: 'unreachable', message: 'connection refused' }],
  workloads: [db, web],
};

describe('fleet cells', () => {
  it('flags only the cell that differs from the usual image and replica count', () => {
    const a = fleetCell(report, web, 'a');
    const b = fleetCell(report, web, 'b');
    const c = fleetCell(report, web, 'c');
    expect(a).toMatchObject({ kind: 'placement', imageOdd: false, replicaOdd: false });
    expect(b).toMatchObject({ kind: 'placement', imageOdd: true, replicaOdd: false });
    expect(c).toMatchObject({ kind: 'placement', imageOdd: false, replicaOdd: true });
  });

  it('an unreadable context is "not read", never missing; a read one without it is missing', () => {
    expect(fleetCell(report, db, 'dead')).toEqual({ kind: 'unread', message: 'connection refused' });
    expect(fleetCell(report, db, 'b')).toEqual({ kind: 'missing' });
    expect(fleetContexts(report)).toEqual(['a', 'b', 'c', 'dead']);
  });

  it('drift ranks images over replicas over missing, and a same-everywhere row is not drifted', () => {
    expect(driftRank(web)).toBe(6);
    expect(driftRank(db)).toBe(1);
    const same = { ...db, missing: [] };
    expect(drifted(same)).toBe(false);
    expect(drifted(db)).toBe(true);
  });

  it('shows the image tag without the registry path', () => {
    expect(imageTag('web=registry.local/team/web:1.2')).toBe('web:1.2');
    expect(imageTag('pg:16')).toBe('pg:16');
  });
});

describe('capacity figures', () => {
  const cap = (cpuReq: number, cpuAlloc: number, memReq: number, memAlloc: number, nodes = 2): Capacity => ({
    nodes,
    nodes_excluded: 0,
    cpu_allocatable_milli: cpuAlloc,
    cpu_requested_milli: cpuReq,
    memory_allocatable: memAlloc,
    memory_requested: memReq,
    node_cpu_free_milli: 0,
    node_memory_free: 0,
    pods: 0,
  });

  it('formats cores, memory and percentages', () => {
    expect(cores(6000)).toBe('6');
    expect(cores(1750)).toBe('1.75');
    expect(cores(1500)).toBe('1.5');
    expect(memory(12 * 1073741824)).toBe('12.0 GiB');
    expect(memory(512 * 1048576)).toBe('512 MiB');
    expect(percent(1750, 6000)).toBe(29);
    expect(percent(1, 0)).toBeNull();
  });

  it('pressure follows the fuller of CPU and memory; no node is an error', () => {
    expect(pressure(cap(1000, 4000, 1, 100))).toBe('ok');
    expect(pressure(cap(3000, 4000, 1, 100))).toBe('warn');
    expect(pressure(cap(1000, 4000, 95, 100))).toBe('error');
    expect(pressure(cap(0, 0, 0, 0, 0))).toBe('error');
  });
});
