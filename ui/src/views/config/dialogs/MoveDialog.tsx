// Move (rename) a prefix: plan what moves (and which target keys exist
// already), then move exactly that plan in guarded copy + delete
// transactions; a key changed meanwhile stops it, and the report says what
// moved, what did not and which keys changed. State: useMove.
import { useState } from 'preact/hooks';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { MOVE_BATCH_KEYS, useMove } from './useMove';

interface Props {
  connId: string;
  initialFrom: string;
  onClose: () => void;
  /** Keys moved (the tree needs a reload). */
  onMoved: () => void;
}

export function MoveDialog({ connId, initialFrom, onClose, onMoved }: Props) {
  const t = useT();
  const m = useMove(connId, initialFrom);
  const [overwrite, setOverwrite] = useState(false);
  const [comment, setComment] = useState('');
  const { plan, report, progress } = m;
  const blocked = m.existing > 0 && !overwrite;
  return (
    <Modal
      title={t('config.ops.move.title')}
      onClose={() => !m.busy && onClose()}
      size="lg"
      testid="config-move"
      closeOnBackdrop={false}
      initialFocus="#cfg-move-to"
      footer={
        plan && (
          <>
            <input class="input input-sm cmp-comment" value={comment} placeholder={t('config.ops.move.comment')} onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)} />
            <button
              type="button"
              class="btn btn-primary"
              data-testid="config-move-apply"
              disabled={m.busy || blocked}
              onClick={() => void m.apply(overwrite, comment.trim()).then(onMoved)}
            >
              {m.busy && <Spinner />}
              {t('config.ops.move.apply', { count: plan.items.length })}
            </button>
          </>
        )
      }
    >
      <p class="muted">{t('config.ops.move.explain')}</p>
      <form
        class="cmp-form"
        onSubmit={(e) => {
          e.preventDefault();
          void m.makePlan();
        }}
      >
        <label class="field-label" for="cfg-move-from">
          {t('config.ops.move.from')}
        </label>
        <input id="cfg-move-from" class="input mono" value={m.from} data-testid="config-move-from" onInput={(e) => m.setFrom((e.currentTarget as HTMLInputElement).value)} />
        <label class="field-label" for="cfg-move-to">
          {t('config.ops.move.to')}
        </label>
        <input id="cfg-move-to" class="input mono" value={m.to} data-testid="config-move-to" onInput={(e) => m.setTo((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="btn btn-primary" data-testid="config-move-plan" disabled={m.busy || !m.from.trim() || !m.to.trim()}>
          {t('config.ops.move.plan')}
        </button>
      </form>
      {m.error && <ErrorState error={m.error} inline title={t('config.ops.move.failed')} />}
      {plan && (
        <div class="move-plan" data-testid="config-move-planned" data-count={plan.items.length}>
          <p>
            {t('config.ops.move.planned', {
              count: plan.items.length,
              from: plan.from.prefix,
              to: plan.to.prefix,
              batches: Math.ceil(plan.items.length / MOVE_BATCH_KEYS),
            })}
          </p>
          {m.existing > 0 && (
            <div class="banner banner-warn" role="status" data-testid="config-move-existing">
              <Icon name="alert" class="banner-icon" />
              <span class="banner-body">{t('config.ops.move.existing', { count: m.existing })}</span>
              <label class="check-label">
                <input type="checkbox" class="check" checked={overwrite} data-testid="config-move-overwrite" onChange={(e) => setOverwrite((e.currentTarget as HTMLInputElement).checked)} />
                {t('config.ops.move.overwrite')}
              </label>
            </div>
          )}
          <ul class="move-keys mono">
            {plan.items.slice(0, 200).map((i) => (
              <li key={i.rel} class={i.target_mod_revision !== 0 ? 'move-existing' : ''}>
                {i.target_mod_revision !== 0 ? '~ ' : '+ '}
                {plan.from.prefix}
                {i.rel} → {plan.to.prefix}
                {i.rel}
              </li>
            ))}
            {plan.items.length > 200 && <li class="muted">… {plan.items.length - 200}</li>}
          </ul>
        </div>
      )}
      {progress && m.busy && (
        <p class="muted" role="status">
          {t('config.ops.move.progress', { batch: progress.batch, batches: progress.batches, moved: progress.moved, keys: progress.keys })}
        </p>
      )}
      {report && (
        <div class={`banner ${report.complete ? 'banner-info' : 'banner-warn'}`} role="status" data-testid="config-move-report" data-complete={String(report.complete)}>
          <Icon name={report.complete ? 'check' : 'alert'} class="banner-icon" />
          <strong class="banner-title">
            {report.complete
              ? t('config.ops.move.done', { moved: report.moved, total: report.total, batches: report.batches.length })
              : t('config.ops.move.stopped', { moved: report.moved, total: report.total, notMoved: report.not_moved.length, from: report.from })}
          </strong>
          {report.changed_since_plan.length > 0 && (
            <span class="banner-body">
              {t('config.ops.move.changed')} <span class="mono">{report.changed_since_plan.map((c) => c.key).join(', ')}</span>
            </span>
          )}
          {report.error && <span class="banner-body">{report.error}</span>}
        </div>
      )}
    </Modal>
  );
}
