// The review step of an apply: per cluster, the verdict, and per object the
// permission pre-check, the field conflicts (field, manager) and the diff of
// the live object against the server-side dry run (collapsed, +/- coloured).
import type { ClusterReview, ObjectReview } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { diffLines, verdict } from './review';

const badge = { clean: 'ok', conflicts: 'warn', denied: 'error', failed: 'error' } as const;

export function ApplyReview({ reviews }: { reviews: ClusterReview[] }) {
  const t = useT();
  return (
    <div class="cl-results" data-testid="clusters-review">
      <p class="muted">{t('clusters.apply.review.intro')}</p>
      {reviews.map((r) => {
        const v = verdict(r);
        return (
          <section key={r.context} data-testid="clusters-review-cluster" data-context={r.context} data-verdict={v}>
            <h3>
              <StatusBadge state={badge[v]}>{r.context}</StatusBadge> <span class="muted">{t(`clusters.apply.review.${v}`)}</span>
            </h3>
            {r.error && <p class="error-inline-text">{r.error}</p>}
            <ul>
              {r.objects.map((o) => (
                <ObjectRow key={`${o.kind}/${o.namespace}/${o.name}`} o={o} />
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}

function ObjectRow({ o }: { o: ObjectReview }) {
  const t = useT();
  const change = o.exists === false ? 'create' : o.diff ? 'change' : 'unchanged';
  const denied = o.access.filter((a) => !a.allowed);
  return (
    <li data-testid="clusters-review-object" data-name={o.name} data-allowed={o.allowed ? 'true' : 'false'}>
      <span class="mono">
        {o.kind} {o.namespace ? `${o.namespace}/` : ''}
        {o.name}
      </span>{' '}
      — {t(`clusters.apply.review.${change}`)}
      <div data-testid="clusters-review-access">
        {denied.length === 0 ? (
          <span class="muted">{t('clusters.apply.review.allowed', { verbs: o.access.map((a) => a.verb).join(', ') })}</span>
        ) : (
          denied.map((a) => (
            <span key={a.verb} class="error-inline-text">
              {t('clusters.apply.review.deniedVerb', { verb: a.verb, resource: a.resource })}
              {a.reason ? ` (${a.reason})` : ''}{' '}
            </span>
          ))
        )}
      </div>
      {o.error && <p class="error-inline-text">{o.error}</p>}
      {o.note && <p class="muted">{o.note}</p>}
      {o.conflicts.length > 0 && (
        <table class="table cl-conflicts" data-testid="clusters-review-conflicts">
          <thead>
            <tr>
              <th>{t('clusters.apply.review.field')}</th>
              <th>{t('clusters.apply.review.manager')}</th>
            </tr>
          </thead>
          <tbody>
            {o.conflicts.map((c) => (
              <tr key={c.field} title={c.message}>
                <td class="mono">{c.field}</td>
                <td class="mono">{c.manager}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {o.diff ? (
        <details class="cl-diff" data-testid="clusters-review-diff">
          <summary>{t('clusters.apply.review.diff')}</summary>
          <div class="diff-body">
            {diffLines(o.diff).map((l, i) => (
              <div key={i} class={`cl-diff-line diff-${l.kind}`}>
                <span class="diff-text">{l.text || ' '}</span>
              </div>
            ))}
          </div>
        </details>
      ) : (
        o.exists !== false && <div class="muted">{t('clusters.apply.review.noDiff')}</div>
      )}
    </li>
  );
}
