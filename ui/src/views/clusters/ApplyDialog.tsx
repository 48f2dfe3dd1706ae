// Server-side apply of a manifest (several YAML documents) to the chosen
// clusters, one call per connection: first a review of every cluster
// (permissions, dry-run diff, field conflicts; nothing written), then the
// apply — only when every cluster is clean, or forcing conflicts with a
// reason — with the result per cluster and the rollout status of Deployments.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { ApplyResult, ClusterReview } from '../../api/types';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { ApplyReview } from './ApplyReview';
import { cardKey, groupByConnection, type Card } from './model';
import { decision } from './review';

export function ApplyDialog({ cards, onClose }: { cards: Map<string, Card>; onClose: () => void }) {
  const t = useT();
  const [manifest, setManifest] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<ApplyResult[] | null>(null);
  const [reviews, setReviews] = useState<ClusterReview[] | null>(null);
  const [forcing, setForcing] = useState(false);
  const [reason, setReason] = useState('');

  // A review holds for the manifest and clusters it was made for only.
  const invalidate = () => {
    setReviews(null);
    setForcing(false);
    setResults(null);
  };
  const edit = (text: string) => {
    setManifest(text);
    invalidate();
  };

  const review = async () => {
    setBusy(true);
    setResults(null);
    const groups = groupByConnection(selected, cards);
    const all = await Promise.all(
      [...groups.entries()].map(([connectionId, contexts]) =>
        api.clustersApplyReview(connectionId, contexts, manifest).catch((e): ClusterReview[] => {
          const err = toAppError(e);
          return contexts.map((context) => ({ context, clean: false, denied: false, conflicted: false, error: err.message, error_code: err.code, objects: [] }));
        }),
      ),
    );
    setReviews(all.flat());
    setForcing(false);
    setBusy(false);
  };

  const toggle = (key: string) => {
    invalidate();
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(key)) n.delete(key);
      else n.add(key);
      return n;
    });
  };

  const run = async (forceReason: string | null) => {
    setBusy(true);
    const groups = groupByConnection(selected, cards);
    const all = await Promise.all(
      [...groups.entries()].map(([connectionId, contexts]) =>
        api.clustersApply(connectionId, contexts, manifest, forceReason).catch((e): ApplyResult[] => {
          const message = toAppError(e).message;
          return contexts.map((context) => ({ context, ok: false, error: message, objects: [], rollouts: [] }));
        }),
      ),
    );
    setResults(all.flat());
    setReviews(null);
    setForcing(false);
    setBusy(false);
  };

  const next = reviews ? decision(reviews) : null;

  const list = [...cards.values()].sort((a, b) => a.connection.localeCompare(b.connection) || a.health.context.localeCompare(b.health.context));
  return (
    <Modal
      title={t('clusters.apply.title')}
      onClose={onClose}
      size="lg"
      testid="clusters-apply"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.close')}
          </button>
          {reviews && (
            <button type="button" class="btn" disabled={busy} onClick={invalidate} data-testid="clusters-review-back">
              {t('clusters.apply.review.back')}
            </button>
          )}
          {!reviews && (
            <button type="button" class="btn btn-primary" disabled={busy || selected.size === 0 || !manifest.trim()} onClick={() => void review()} data-testid="clusters-review-run">
              {busy && <Spinner size="sm" />}
              {t('clusters.apply.review.run', { count: selected.size })}
            </button>
          )}
          {next === 'force' && !forcing && (
            <button type="button" class="btn btn-danger" disabled={busy} onClick={() => setForcing(true)} data-testid="clusters-force-open">
              {t('clusters.apply.review.force')}
            </button>
          )}
          {reviews && !forcing && (
            <button type="button" class="btn btn-primary" disabled={busy || next !== 'apply'} onClick={() => void run(null)} data-testid="clusters-apply-run">
              {busy && <Spinner size="sm" />}
              {t('clusters.apply.run', { count: selected.size })}
            </button>
          )}
          {forcing && (
            <button type="button" class="btn btn-danger" disabled={busy || !reason.trim()} onClick={() => void run(reason.trim())} data-testid="clusters-force-run">
              {busy && <Spinner size="sm" />}
              {t('clusters.apply.review.forceRun')}
            </button>
          )}
        </>
      }
    >
      <p class="muted">{t('clusters.apply.intro')}</p>
      <textarea class="input mono cl-manifest" rows={12} value={manifest} onInput={(e) => edit(e.currentTarget.value)} placeholder="apiVersion: v1&#10;kind: ConfigMap&#10;…" data-testid="clusters-apply-text" spellcheck={false} />
      <fieldset class="cl-targets">
        <legend>{t('clusters.apply.targets')}</legend>
        {list.map((c) => {
          const key = cardKey(c.connectionId, c.health.context);
          return (
            <label key={key} class="check" data-testid="clusters-apply-context" data-context={c.health.context}>
              <input type="checkbox" checked={selected.has(key)} onChange={() => toggle(key)} />
              <span>
                {c.health.context} <span class="muted">({c.connection})</span>
              </span>
            </label>
          );
        })}
      </fieldset>
      {reviews && <ApplyReview reviews={reviews} />}
      {next === 'blocked' && <p class="error-inline-text" data-testid="clusters-review-blocked">{t('clusters.apply.review.blocked')}</p>}
      {forcing && (
        <div class="cl-force" data-testid="clusters-force">
          <strong>{t('clusters.apply.review.forceTitle')}</strong>
          <p class="muted">{t('clusters.apply.review.forceHint')}</p>
          <label>
            {t('clusters.apply.review.reason')}
            <input class="input" value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="clusters-force-reason" maxLength={1000} />
          </label>
        </div>
      )}
      {results && (
        <div class="cl-results">
          {results.map((r) => (
            <section key={r.context} data-testid="clusters-apply-result" data-context={r.context} data-ok={r.ok ? 'true' : 'false'}>
              <h3>
                <StatusBadge state={r.ok ? 'ok' : 'error'}>{r.context}</StatusBadge>
              </h3>
              {r.error && <p class="error-inline-text">{r.error}</p>}
              <ul>
                {r.objects.map((o) => (
                  <li key={`${o.kind}/${o.namespace}/${o.name}`}>
                    <span class="mono">
                      {o.kind} {o.namespace ? `${o.namespace}/` : ''}
                      {o.name}
                    </span>{' '}
                    — {t(`clusters.apply.action.${o.action}`)}
                    {o.error && <span class="error-inline-text"> {o.error}</span>}
                  </li>
                ))}
                {r.rollouts.map((ro) => (
                  <li key={`rollout/${ro.namespace}/${ro.name}`}>
                    {t('clusters.apply.rollout', { name: `${ro.namespace}/${ro.name}`, updated: ro.updated, desired: ro.desired, available: ro.available })}{' '}
                    {ro.done ? t('clusters.apply.rolledOut') : t('clusters.apply.inProgress')}
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </Modal>
  );
}
