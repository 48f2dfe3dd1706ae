// One cluster: verdict, version, latency, nodes, and the reasons (the seed's
// issue list). Focusable; Enter opens the drill-down.
import type { TargetedKeyboardEvent } from 'preact';
import type { ClusterCapacity } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { useSettings } from '../../app/store';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { CapacityFacts } from './CapacityFacts';
import { deniedList, forbidden, reasons, type Card } from './model';

const SHOWN = 5;

export function ClusterCard({ card, capacity, onOpen, onKeyDown }: { card: Card; capacity?: ClusterCapacity; onOpen: () => void; onKeyDown: (e: TargetedKeyboardEvent<HTMLElement>) => void }) {
  const t = useT();
  const { settings } = useSettings();
  const h = card.health;
  const list = reasons(h);
  const denied = forbidden(h);
  const state = h.verdict === 'healthy' ? 'ok' : h.verdict === 'degraded' ? 'warn' : 'error';
  return (
    <article
      class={`cl-card cl-card-${h.verdict}${card.stale ? ' cl-card-stale' : ''}`}
      tabIndex={0}
      data-testid="cluster-card"
      data-context={h.context}
      data-connection={card.connection}
      data-verdict={h.verdict}
      data-stale={card.stale ? 'true' : 'false'}
      onClick={onOpen}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          onOpen();
        } else onKeyDown(e);
      }}
      aria-label={t('clusters.cardLabel', { context: h.context, verdict: t(`clusters.verdict.${h.verdict}`) })}
    >
      <header class="cl-card-head">
        <div class="cl-card-title">
          <strong class="truncate">{h.context}</strong>
          <span class="muted truncate">{card.connection}</span>
        </div>
        <StatusBadge state={state}>{t(`clusters.verdict.${h.verdict}`)}</StatusBadge>
      </header>
      {h.insecure_tls && (
        <p class="banner banner-warn" role="status" title={t('clusters.insecureTlsHint')} data-testid="cluster-insecure-tls">
          {t('clusters.insecureTls')}
        </p>
      )}
      <dl class="cl-facts">
        <div>
          <dt>{t('clusters.version')}</dt>
          <dd class="mono">{h.version ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('clusters.latency')}</dt>
          <dd>{h.latency_ms !== null ? `${h.latency_ms} ms` : '—'}</dd>
        </div>
        <div>
          <dt>{t('clusters.nodes')}</dt>
          <dd>
            {deniedList(h, 'nodes') ? '—' : `${h.nodes.ready}/${h.nodes.total}`}
            {h.nodes.cordoned > 0 && <span class="cl-extra"> · {t('clusters.cordoned', { count: h.nodes.cordoned })}</span>}
            {h.nodes.pressure > 0 && <span class="cl-extra cl-bad"> · {t('clusters.pressure', { count: h.nodes.pressure })}</span>}
          </dd>
        </div>
      </dl>
      {h.verdict !== 'unreachable' && <CapacityFacts capacity={capacity} />}
      <ul class="cl-reasons" data-testid="cluster-reasons">
        {list.slice(0, SHOWN).map((f, i) => (
          <li key={i} class={`cl-reason cl-reason-${f.severity}`}>
            {f.message}
          </li>
        ))}
        {list.length > SHOWN && <li class="muted">{t('clusters.more', { count: list.length - SHOWN })}</li>}
        {list.length === 0 && h.verdict === 'healthy' && <li class="muted">{t('clusters.noIssues')}</li>}
      </ul>
      {denied.length > 0 && (
        <p class="cl-denied muted" title={denied.map((d) => d.message).join('\n')}>
          {t('clusters.notPermitted', { what: denied.map((d) => d.message.replace(/^forbidden: /, '')).join(', ') })}
        </p>
      )}
      <footer class="cl-card-foot muted" data-testid="cluster-age" title={formatDateTime(h.checked_at)}>
        {card.stale ? t('clusters.cached', { age: formatRelative(h.checked_at, settings.language) }) : t('clusters.checked', { age: formatRelative(h.checked_at, settings.language) })}
      </footer>
    </article>
  );
}
