// Promote: a prefix of this connection to a prefix of another (usually another
// etcd cluster). Plan, review each key (values shown; binary marked and as base64), tick
// what to apply (removes only when ticked), then apply exactly that plan; the
// report lists the committed batches and, on a stop, the keys that changed
// since the review. State: usePromote.
import { useState } from 'preact/hooks';
import type { Connection, PlanValue } from '../../../api/types';
import { ConnectionPicker } from '../../../components/ConnectionPicker';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { DiffView } from '../DiffView';
import { usePromote } from './usePromote';

/** A value as text; a binary one says so (`binary` is the label, e.g. "binary (base64)"). */
export const shown = (v: PlanValue | null | undefined, binary: string): string => (v == null ? '' : typeof v === 'string' ? v : `${binary}: ${v.base64}`);

interface Props {
  connId: string;
  connections: Connection[];
  initialPrefix: string;
  onClose: () => void;
}

export function PromoteDialog({ connId, connections, initialPrefix, onClose }: Props) {
  const t = useT();
  const p = usePromote(connId, initialPrefix);
  const [comment, setComment] = useState('');
  const { plan, report, progress } = p;
  const targets = connections.filter((c) => c.id !== connId);
  const source = connections.find((c) => c.id === connId)?.name ?? '';
  return (
    <Modal
      title={t('config.promote.title')}
      onClose={() => !p.busy && onClose()}
      size="xl"
      testid="config-promote"
      closeOnBackdrop={false}
      footer={
        plan && (
          <>
            <input class="input input-sm cmp-comment" value={comment} placeholder={t('config.promote.comment')} onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)} />
            <button
              type="button"
              class="btn btn-primary"
              data-testid="config-promote-apply"
              disabled={p.busy || p.selected.size === 0 || p.filed !== null}
              onClick={() => void p.apply(comment.trim())}
            >
              {p.busy && <Spinner />}
              {p.protectedBy.length ? t('config.promote.propose', { count: p.selected.size }) : t('config.promote.apply', { count: p.selected.size })}
            </button>
          </>
        )
      }
    >
      <form
        class="cmp-form"
        onSubmit={(e) => {
          e.preventDefault();
          void p.makePlan();
        }}
      >
        <label class="field-label" for="cfg-prm-from">
          {t('config.promote.from')}
          {source && (
            <>
              {' · '}
              <strong data-testid="config-promote-source">{source}</strong>
            </>
          )}
        </label>
        <input id="cfg-prm-from" class="input mono" value={p.fromPrefix} data-testid="config-promote-from" onInput={(e) => p.setFromPrefix((e.currentTarget as HTMLInputElement).value)} />
        <ConnectionPicker icon="plug" label={t('config.promote.to')} connections={targets} value={p.toConnId} onChange={p.setToConnId} testid="config-promote-target" />
        <input class="input mono" value={p.toPrefix} aria-label={t('config.promote.toPrefix')} data-testid="config-promote-to" onInput={(e) => p.setToPrefix((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="btn btn-primary" data-testid="config-promote-plan" disabled={p.busy || !p.toConnId || !p.fromPrefix.trim() || !p.toPrefix.trim()}>
          {t('config.promote.plan')}
        </button>
      </form>
      {p.error && <ErrorState error={p.error} inline title={t('config.promote.failed')} />}
      {p.protectedBy.length > 0 && !p.filed && (
        <div class="banner banner-info" role="note" data-testid="config-promote-protected">
          <Icon name="key" class="banner-icon" />
          <span class="banner-body">{t('config.promote.protected', { prefixes: p.protectedBy.join(', ') })}</span>
        </div>
      )}
      {p.filed && (
        <div class="banner banner-info" role="status" data-testid="config-promote-filed">
          <Icon name="check" class="banner-icon" />
          <strong class="banner-title">{t('config.promote.filed', { id: p.filed.id, count: p.filed.ops.length })}</strong>
          <span class="banner-body">{t('config.promote.filedNext')}</span>
        </div>
      )}
      {progress && p.busy && <p class="muted">{t('config.promote.progress', { batch: progress.batch, batches: progress.batches, applied: progress.applied, items: progress.items })}</p>}
      {report && (
        <div class={`banner ${report.complete ? 'banner-info' : 'banner-warn'}`} role="status" data-testid="config-promote-report">
          <Icon name={report.complete ? 'check' : 'alert'} class="banner-icon" />
          <strong class="banner-title">{t('config.promote.report', { batches: report.batches.length, applied: report.batches.reduce((n, b) => n + b.keys.length, 0), selected: report.selected })}</strong>
          {report.changed_since_review.length > 0 && (
            <span class="banner-body">
              {t('config.promote.moved')} <span class="mono">{report.changed_since_review.map((m) => m.key).join(', ')}</span>
            </span>
          )}
          {report.error && <span class="banner-body">{report.error}</span>}
        </div>
      )}
      {plan && (
        <div class="cmp-result">
          <p class="muted">{t('config.promote.summary', { count: plan.items.length, unchanged: plan.unchanged })}</p>
          <ul class="cmp-list">
            {plan.items.map((i) => (
              <li key={i.rel} class={`cmp-row cmp-promote-${i.action}`} data-testid="config-promote-row" data-rel={i.rel} data-action={i.action}>
                <div class="cmp-row-head">
                  <input type="checkbox" class="check" checked={p.selected.has(i.rel)} aria-label={t('config.compare.select', { rel: i.rel })} onChange={() => p.toggle(i.rel)} />
                  <span class="pill">{t(`config.promote.action.${i.action}`)}</span>
                  <span class="mono cmp-rel">{i.rel}</span>
                  <span class="muted cmp-revs">{t('config.promote.revs', { source: i.source_mod_revision, target: i.target_mod_revision })}</span>
                </div>
                {i.action === 'change' ? (
                  <DiffView compact oldText={shown(i.current, t('config.compare.binary'))} newText={shown(i.value, t('config.compare.binary'))} legend={[plan.to.connection, plan.from.connection]} />
                ) : (
                  <code class="cmp-preview">{shown(i.action === 'add' ? i.value : i.current, t('config.compare.binary'))}</code>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Modal>
  );
}
