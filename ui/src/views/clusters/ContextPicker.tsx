// The connection and context choice shared by the Clusters dialogs (rollout,
// blue/green, failover): the Kubernetes connections behind the cards, and a
// connection's contexts, each from the cards the workspace shows.
import type { ClusterVerdict } from '../../api/types';
import { useT } from '../../i18n';
import type { Card } from './model';

/** [id, name] of every connection with a card, by name. */
export function connectionsOf(cards: Map<string, Card>): [string, string][] {
  return [...new Map([...cards.values()].map((c) => [c.connectionId, c.connection])).entries()].sort((a, b) => a[1].localeCompare(b[1]));
}

/** The contexts of one connection, by name. */
export function contextsOf(cards: Map<string, Card>, connectionId: string): string[] {
  return [...cards.values()].filter((c) => c.connectionId === connectionId).map((c) => c.health.context).sort();
}

/** The live verdict of a context, as its card shows it. */
export function verdictOf(cards: Map<string, Card>, connectionId: string, context: string): ClusterVerdict | null {
  return [...cards.values()].find((c) => c.connectionId === connectionId && c.health.context === context)?.health.verdict ?? null;
}

/** A connection select, shown only when there is more than one connection to choose. */
export function ConnectionSelect({
  cards,
  value,
  onChange,
  testid,
}: {
  cards: Map<string, Card>;
  value: string;
  onChange: (id: string) => void;
  testid: string;
}) {
  const t = useT();
  const connections = connectionsOf(cards);
  if (connections.length < 2) return null;
  return (
    <label>
      {t('rollout.connection')}
      <select class="input" value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid={testid}>
        {connections.map(([id, name]) => (
          <option key={id} value={id}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** One context of a connection, each option with its live verdict. */
export function ContextSelect({
  cards,
  connectionId,
  value,
  onChange,
  label,
  testid,
}: {
  cards: Map<string, Card>;
  connectionId: string;
  value: string;
  onChange: (context: string) => void;
  label: string;
  testid: string;
}) {
  const t = useT();
  return (
    <label>
      {label}
      <select class="input" value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid={testid}>
        {contextsOf(cards, connectionId).map((c) => {
          const v = verdictOf(cards, connectionId, c);
          return (
            <option key={c} value={c}>
              {v ? `${c} — ${t(`clusters.verdict.${v}`)}` : c}
            </option>
          );
        })}
      </select>
    </label>
  );
}
