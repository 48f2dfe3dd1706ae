import { describe, expect, it } from 'vitest';
import type { ClusterHealth, Finding } from '../../api/types';
import { cardKey, deniedList, forbidden, groupByConnection, matchesFilter, nextCardIndex, reasons, sortCards, summary, upsert, type Card } from './model';

const f = (severity: Finding['severity'], kind: string, message: string): Finding => ({ severity, kind, object: 'x', message });
const h = (context: string, verdict: ClusterHealth['verdict'], findings: Finding[] = []): ClusterHealth => ({
  context,
  verdict,
  version: 'v1.37.2',
  latency_ms: 3,
  insecure_tls: false,
  nodes: { total: 2, ready: 2, cordoned: 0, pressure: 0 },
  findings,
  checked_at: '2026-11-24T00:00:00Z',
});
const card = (connection: string, health: ClusterHealth, stale = false): Card => ({ connectionId: `id-${connection}`, connection, health, stale });

describe('clusters model', () => {
  it('sorts worst first, then by name', () => {
    const cards = [card('b', h('x', 'healthy')), card('a', h('y', 'degraded')), card('a', h('z', 'unreachable')), card('a', h('a', 'healthy'))];
    expect(sortCards(cards).map((c) => c.health.context)).toEqual(['z', 'y', 'a', 'x']);
  });

  it('filters on context, connection and reasons', () => {
    const c = card('prod', h('eu-1', 'degraded', [f('critical', 'node', 'node web-3 is NotReady')]));
    expect(matchesFilter(c, '')).toBe(true);
    expect(matchesFilter(c, 'EU-1')).toBe(true);
    expect(matchesFilter(c, 'prod')).toBe(true);
    expect(matchesFilter(c, 'notready')).toBe(true);
    expect(matchesFilter(c, 'staging')).toBe(false);
  });

  it('counts verdicts', () => {
    expect(summary([card('a', h('1', 'healthy')), card('a', h('2', 'healthy')), card('a', h('3', 'unreachable'))])).toEqual({ healthy: 2, degraded: 0, unreachable: 1 });
  });

  it('separates reasons from what may not be read', () => {
    const nodes = { ...f('warning', 'forbidden', 'forbidden: list nodes — health cannot be assessed without it'), object: 'nodes' };
    const hh = h('c', 'degraded', [
      f('critical', 'node', 'a'),
      nodes,
      f('info', 'forbidden', 'forbidden: list events'),
      f('info', 'api', 'metrics not available'),
      f('warning', 'event', 'b'),
    ]);
    // A list without which there is no verdict is a reason; an optional one is a note.
    expect(reasons(hh).map((x) => x.message)).toEqual(['a', nodes.message, 'b']);
    expect(forbidden(hh).map((x) => x.message)).toEqual(['forbidden: list events']);
    expect(deniedList(hh, 'nodes')).toBe(true);
    expect(deniedList(hh, 'deployments')).toBe(false);
  });

  it('never lets a cached result overwrite a live one', () => {
    let m = new Map<string, Card>();
    m = upsert(m, 'id', 'lab', h('admin', 'healthy'), true);
    expect(m.get(cardKey('id', 'admin'))?.stale).toBe(true);
    m = upsert(m, 'id', 'lab', h('admin', 'degraded'));
    expect(m.get(cardKey('id', 'admin'))?.health.verdict).toBe('degraded');
    const same = upsert(m, 'id', 'lab', h('admin', 'healthy'), true);
    expect(same.get(cardKey('id', 'admin'))?.health.verdict).toBe('degraded');
  });

  it('groups selected clusters by connection for apply', () => {
    let m = new Map<string, Card>();
    m = upsert(m, 'c1', 'lab', h('admin', 'healthy'));
    m = upsert(m, 'c1', 'lab', h('restricted', 'healthy'));
    m = upsert(m, 'c2', 'prod', h('eu', 'healthy'));
    const g = groupByConnection([cardKey('c1', 'admin'), cardKey('c2', 'eu'), cardKey('c1', 'restricted'), 'gone'], m);
    expect([...g.entries()]).toEqual([
      ['c1', ['admin', 'restricted']],
      ['c2', ['eu']],
    ]);
  });

  it('moves focus in the grid with arrow keys', () => {
    expect(nextCardIndex('ArrowRight', 0, 5, 3)).toBe(1);
    expect(nextCardIndex('ArrowDown', 1, 5, 3)).toBe(4);
    expect(nextCardIndex('ArrowDown', 3, 5, 3)).toBeNull();
    expect(nextCardIndex('ArrowLeft', 0, 5, 3)).toBeNull();
    expect(nextCardIndex('End', 0, 5, 3)).toBe(4);
    expect(nextCardIndex('x', 0, 5, 3)).toBeNull();
  });
});
