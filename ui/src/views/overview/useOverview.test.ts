import { describe, expect, it } from 'vitest';
import type { Overview, TileUpdate } from '../../api/types';
import { applyTile, TILES } from './useOverview';

const status = (source: string) => ({ connections: 1, source, as_of: null, problems: [] });

describe('the Overview', () => {
  it('replaces only the refreshed tile', () => {
    const o = {
      at: 't',
      me: 'me',
      clusters: { status: status('cache'), healthy: 1, degraded: 0, unreachable: 0, items: [] },
    } as unknown as Overview;
    const u = { tile: 'clusters', status: status('live'), healthy: 0, degraded: 1, unreachable: 0, items: [] } as unknown as TileUpdate;
    const next = applyTile(o, u);
    expect(next.clusters).toEqual({ status: status('live'), healthy: 0, degraded: 1, unreachable: 0, items: [] });
    expect(next.me).toBe('me');
    expect('tile' in next.clusters).toBe(false);
  });

  it('refreshes every tile', () => {
    expect(TILES).toEqual(['vms', 'clusters', 'images', 'config', 'activity']);
  });
});
