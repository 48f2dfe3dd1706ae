// One request: what was asked, the quota check, the chain of decisions
// (who, when, comment), and the next action: approve/reject a step, or
// provision with live step-by-step progress.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { ProvisionProgress, Stage, Via, VmRequest } from '../../api/types';
import { Modal } from '../../components/Modal';
import { StatusBadge } from '../../components/StatusBadge';
import { useSettings } from '../../app/store';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { widthRef } from '../images/model';
import { nextAction, provisionPercent, stateBadge, STEPS } from './model';
import { RequestChanges } from './RequestChanges';
import { approvedByRule } from './rules';

interface Props {
  connId: string;
  request: VmRequest;
  onClose: () => void;
  onChanged: (r: VmRequest) => void;
  onEdit: () => void;
}

export function RequestDrawer({ connId, request: r, onClose, onChanged, onEdit }: Props) {
  const t = useT();
  const { settings } = useSettings();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<ProvisionProgress | null>(null);
  const action = nextAction(r.state, r.failure);
  const rule = approvedByRule(r);
  // Besides as myself: on behalf of an approver whose delegation to me is in force, or as escalation delegate.
  const [ways, setWays] = useState<Via[]>([]);
  const [way, setWay] = useState(0);
  useEffect(() => {
    setWay(0);
    if (r.state !== 'pending_manager' && r.state !== 'pending_admin') return setWays([]);
    api.vmsDecisionWays(r.id).then(setWays, () => setWays([]));
  }, [r.id, r.state]);

  const decide = async (stage: Stage, approved: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const via = way > 0 ? ways[way - 1] : undefined;
      const next = via ? await api.vmsDecideVia(connId, r.id, stage, approved, comment, via) : await api.vmsDecide(connId, r.id, stage, approved, comment);
      setComment('');
      onChanged(next);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const provision = async () => {
    setBusy(true);
    setError(null);
    setProgress({ request: r.id, step: 'lock', percent: 0 });
    try {
      onChanged(await api.vmsProvision(connId, r.id, (p) => setProgress(p)));
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };

  const stage: Stage | null = action === 'approve_manager' ? 'manager' : action === 'approve_admin' ? 'admin' : null;
  const pct = provisionPercent(progress);
  return (
    <Modal variant="drawer" size="lg" title={t('vms.detail.title', { name: r.spec.name })} onClose={onClose} testid="vm-request-drawer" closeOnBackdrop={!busy}>
      <div class="vm-detail" data-testid="vm-detail" data-state={r.state}>
        <div class="vm-detail-head">
          <StatusBadge state={stateBadge(r.state)}>{t(`vms.state.${r.state}`)}</StatusBadge>
          <span class="mono muted">{r.id}</span>
          <span class="muted">{t('vms.detail.by', { who: r.requester, when: formatRelative(r.created_at, settings.language) })}</span>
          {r.escalations.map((e) => (
            <span key={e.stage} title={t('delegation.badgeHint', { step: e.stage, since: formatDateTime(e.waiting_since), hours: e.timeout_hours, at: formatDateTime(e.at) })} data-testid="vm-escalated">
              <StatusBadge state="warn">{t('delegation.badge', { to: e.to })}</StatusBadge>
            </span>
          ))}
          {rule && (
            <span title={t('vmRules.badgeHint')} data-testid="vm-auto-approved" data-rule={rule}>
              <StatusBadge state="info">{t('vmRules.badge', { rule })}</StatusBadge>
            </span>
          )}
        </div>
        <dl class="vm-spec">
          <dt>{t('vms.form.template')}</dt>
          <dd class="mono">{r.spec.template}</dd>
          <dt>{t('vms.detail.size')}</dt>
          <dd>{t('vms.detail.sizeValue', { cpu: r.spec.cpu, memory: r.spec.memory_gb, disk: r.spec.disk_gb })}</dd>
          <dt>{t('vms.form.department')}</dt>
          <dd>{r.spec.department}</dd>
          <dt>{t('vms.form.purpose')}</dt>
          <dd>{r.spec.purpose}</dd>
          <dt>{t('vms.form.lease')}</dt>
          <dd>{r.spec.lease_end}</dd>
          <dt>{t('vms.form.snapshots')}</dt>
          <dd>{t(`vms.schedule.${r.spec.snapshot_schedule}`)}</dd>
          {r.asset && (
            <>
              <dt>{t('vms.detail.vm')}</dt>
              <dd data-testid="vm-asset">
                <span class="mono">{r.asset.vm_id}</span> · {r.asset.host} · {r.asset.datastore} · {r.asset.snapshot}
              </dd>
              {r.asset.hostname && (
                <>
                  <dt>{t('vms.detail.guest')}</dt>
                  <dd data-testid="vm-guest">
                    <span class="mono">{r.asset.hostname}</span> · <span class="mono">{r.asset.ip_address}</span> · {r.asset.guest_os}
                  </dd>
                </>
              )}
            </>
          )}
        </dl>
        <div class={`vm-quota ${r.quota.ok ? '' : 'vm-quota-over'}`} data-testid="vm-quota">
          <strong>{r.quota.ok ? t('vms.detail.quotaOk') : t('vms.detail.quotaOver')}</strong>
          <ul>
            {r.quota.lines.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        </div>
        {r.failure && (
          <div class="banner banner-error" role="alert" data-testid="vm-failure">
            {r.failure}
          </div>
        )}
        {r.notes.length > 0 && (
          <div class="banner banner-warn banner-list" role="status" data-testid="vm-notes">
            <strong>{t('vms.detail.ignored')}</strong>
            <ul>
              {r.notes.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
          </div>
        )}
        <h3 class="vm-h3">{t('vms.detail.history')}</h3>
        <ol class="vm-history" data-testid="vm-history">
          {r.history.map((h, i) => (
            <li key={i}>
              <span class="vm-history-time" title={formatDateTime(h.at)}>
                {formatDateTime(h.at)}
              </span>
              {/* A past step is never shown spinning. */}
              <StatusBadge state={stateBadge(h.to) === 'running' ? 'info' : stateBadge(h.to)}>{t(`vms.state.${h.to}`)}</StatusBadge>
              <span class="vm-history-actor">{h.actor}</span>
              {h.comment && <span class="muted">{h.comment}</span>}
            </li>
          ))}
        </ol>

        {progress && (
          <div class="vm-progress" data-testid="vm-provision-progress" data-step={progress.step}>
            <ol class="vm-steps">
              {STEPS.map((s, i) => {
                const current = STEPS.indexOf(progress.step);
                const cls = i < current || (i === current && progress.percent === 100) ? 'done' : i === current ? 'active' : '';
                return (
                  <li key={s} class={`vm-step ${cls}`}>
                    {t(`vms.step.${s}`)}
                  </li>
                );
              })}
            </ol>
            <div class="img-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
              <div class="img-bar-fill" ref={widthRef(Math.max(3, pct))} />
            </div>
          </div>
        )}
        {error && (
          <div class="banner banner-error" role="alert" data-testid="vm-action-error">
            {error}
          </div>
        )}
        {stage && (
          <div class="vm-decide">
            <label class="field-label" for="vm-comment">
              {t(`vms.detail.decide.${stage}`)}
            </label>
            {ways.length > 0 && (
              <label class="vm-quota-field">
                <span>{t('delegation.decideAs')}</span>
                <select class="input input-sm" value={way} onChange={(e) => setWay(Number(e.currentTarget.value))} data-testid="vm-decide-as">
                  <option value={0}>{t('delegation.asMyself')}</option>
                  {ways.map((w, i) => (
                    <option key={i} value={i + 1}>
                      {w.kind === 'on_behalf_of' ? t('delegation.onBehalfOf', { approver: w.approver }) : t('delegation.asEscalation')}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <textarea id="vm-comment" class="input" rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} placeholder={t('vms.detail.commentHint')} data-testid="vm-comment" />
            <div class="vm-actions">
              <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void decide(stage, false)} data-testid="vm-reject">
                {t('vms.detail.reject')}
              </button>
              <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void decide(stage, true)} data-testid="vm-approve">
                {t('vms.detail.approve')}
              </button>
            </div>
          </div>
        )}
        <RequestChanges request={r} onChanged={onChanged} onEdit={onEdit} />
        {(action === 'provision' || action === 'retry') && (
          <div class="vm-actions">
            <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void provision()} data-testid="vm-provision">
              {action === 'retry' ? t('vms.detail.retry') : t('vms.detail.provision')}
            </button>
          </div>
        )}
      </div>
    </Modal>
  );
}
