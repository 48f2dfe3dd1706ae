// Pure logic of the Clusters dashboard (tested in model.test.ts). The verdict
// comes from the backend and is never recomputed here.
import type { ClusterHealth, ClusterVerdict, Finding } from '../../api/types';

/** One cluster card: a context of a Kubernetes connection. */
export interface Card {
  connectionId: string;
  connection: string;
  health: ClusterHealth;
  /** From the cache, not confirmed live yet. */
  stale: boolean;
}

export const cardKey = (connectionId: string, context: string) => `${connectionId}\u0000${context}`;

const VERDICT_RANK: Record<ClusterVerdict, number> = { unreachable: 0, degraded: 1, healthy: 2 };

/** Worst first, then by connection and context name. */
export function sortCards(cards: Card[]): Card[] {
  return [...cards].sort(
    (a, b) =>
      VERDICT_RANK[a.health.verdict] - VERDICT_RANK[b.health.verdict] ||
      a.connection.localeCompare(b.connection) ||
      a.health.context.localeCompare(b.health.context),
  );
}

/** Case-insensitive match on context, connection and reason text. */
export function matchesFilter(card: Card, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  const text = [card.health.context, card.connection, card.health.verdict, ...card.health.findings.map((x) => x.message)].join('\n').toLowerCase();
  return text.includes(f);
}

export function summary(cards: Card[]): Record<ClusterVerdict, number> {
  const out: Record<ClusterVerdict, number> = { healthy: 0, degraded: 0, unreachable: 0 };
  for (const c of cards) out[c.health.verdict]++;
  return out;
}

/** The reasons a card lists: warnings and criticals, most severe first (the backend's order). */
export function reasons(h: ClusterHealth): Finding[] {
  // A forbidden essential list (nodes, system pods) is a reason: without it
  // the verdict cannot be healthy, and the message says what to grant.
  return h.findings.filter((f) => f.severity !== 'info');
}

/** Optional lists the user's credentials may not read (notes, not reasons). */
export function forbidden(h: ClusterHealth): Finding[] {
  return h.findings.filter((f) => f.kind === 'forbidden' && f.severity === 'info');
}

/** Whether the credentials may not list `what` (e.g. "nodes"). */
export function deniedList(h: ClusterHealth, what: string): boolean {
  return h.findings.some((f) => f.kind === 'forbidden' && f.object === what);
}

/** Replaces (or adds) the card of `health`, marking it live. */
export function upsert(cards: Map<string, Card>, connectionId: string, connection: string, health: ClusterHealth, stale = false): Map<string, Card> {
  const next = new Map(cards);
  const key = cardKey(connectionId, health.context);
  const current = next.get(key);
  // A cached result never overwrites a live one.
  if (stale && current && !current.stale) return cards;
  next.set(key, { connectionId, connection, health, stale });
  return next;
}

/** Selected card keys grouped by connection, for one apply call per connection. */
export function groupByConnection(selected: Iterable<string>, cards: Map<string, Card>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const key of selected) {
    const c = cards.get(key);
    if (!c) continue;
    const list = out.get(c.connectionId) ?? [];
    list.push(c.health.context);
    out.set(c.connectionId, list);
  }
  return out;
}

/** Index of the card to focus after an arrow key in a grid of `columns`. */
export function nextCardIndex(key: string, index: number, count: number, columns: number): number | null {
  const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  const d = step[key];
  if (d === undefined) return null;
  const next = index + d;
  return next >= 0 && next < count ? next : null;
}
