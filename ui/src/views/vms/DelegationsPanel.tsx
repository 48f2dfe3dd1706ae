// Delegations with start and end dates (the approver names a delegate for a
// step; revocable), and per department the approval timeout with its
// escalation delegate. See docs/vm-delegation.md.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, DelegationInput, DelegationView, EscalationPolicy } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

const today = () => new Date().toISOString().slice(0, 10);
const EMPTY: DelegationInput = { delegate: '', stage: 'manager', department: '', start: '', end: '', reason: '' };

export function DelegationsPanel({ version }: { version: number }) {
  const t = useT();
  const toast = useToast();
  const [rows, setRows] = useState<DelegationView[] | null>(null);
  const [policies, setPolicies] = useState<EscalationPolicy[]>([]);
  const [error, setError] = useState<AppError | null>(null);
  const [form, setForm] = useState<DelegationInput | null>(null);
  const [policy, setPolicy] = useState<EscalationPolicy | null>(null);
  const [busy, setBusy] = useState(false);
  const load = () => {
    api.vmsDelegations().then((d) => (setRows(d), setError(null)), (e) => setError(toAppError(e)));
    api.vmsEscalationPolicies().then(setPolicies, () => setPolicies([]));
  };
  useEffect(() => void load(), [version]);

  const run = async (what: () => Promise<string>) => {
    if (busy) return;
    setBusy(true);
    try {
      toast.push({ kind: 'ok', title: await what() });
      load();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      setBusy(false);
    }
  };
  const save = () =>
    run(async () => {
      if (!form) return '';
      const d = await api.vmsDelegate({ ...form, department: form.stage === 'manager' ? form.department : null });
      setForm(null);
      return t('delegation.saved', { delegate: d.delegate, start: d.start, end: d.end });
    });
  const savePolicy = () =>
    run(async () => {
      if (!policy) return '';
      const p = await api.vmsSetEscalationPolicy(policy);
      setPolicy(null);
      return t('delegation.policySaved', { department: p.department, hours: p.timeout_hours, to: p.escalate_to });
    });

  const cols: Column<DelegationView>[] = [
    { id: 'approver', header: t('delegation.col.approver'), cell: (d) => d.approver, sortValue: (d) => d.approver, filterValue: (d) => d.approver },
    { id: 'delegate', header: t('delegation.col.delegate'), cell: (d) => d.delegate, sortValue: (d) => d.delegate, filterValue: (d) => d.delegate },
    {
      id: 'step',
      header: t('delegation.col.step'),
      cell: (d) => (d.stage === 'manager' ? t('delegation.stepValue.manager', { department: d.department ?? '' }) : t('delegation.stepValue.admin')),
    },
    { id: 'days', header: t('delegation.col.days'), cell: (d) => <span class="mono">{`${d.start} – ${d.end}`}</span>, sortValue: (d) => d.start },
    {
      id: 'state',
      header: t('delegation.col.state'),
      cell: (d) =>
        d.revoked ? (
          <StatusBadge state="never">{t('delegation.state.revoked')}</StatusBadge>
        ) : d.active ? (
          <StatusBadge state="ok">{t('delegation.state.active')}</StatusBadge>
        ) : (
          <StatusBadge state="warn">{t('delegation.state.inactive')}</StatusBadge>
        ),
    },
    { id: 'reason', header: t('delegation.col.reason'), cell: (d) => d.reason, filterValue: (d) => d.reason },
    {
      id: 'revoke',
      header: '',
      cell: (d) =>
        !d.revoked && (
          <button type="button" class="btn btn-sm" disabled={busy} onClick={() => void run(async () => (await api.vmsRevokeDelegation(d.id), t('delegation.revoked', { id: d.id })))} data-testid="delegation-revoke">
            {t('delegation.revoke')}
          </button>
        ),
      class: 'col-actions',
    },
  ];
  const field = (k: 'delegate' | 'department' | 'reason', label: string) => (
    <label class="vm-quota-field">
      <span>{label}</span>
      <input class="input input-sm" value={form?.[k] ?? ''} onInput={(e) => form && setForm({ ...form, [k]: e.currentTarget.value })} data-testid={`delegation-${k}`} />
    </label>
  );
  const date = (k: 'start' | 'end', label: string) => (
    <label class="vm-quota-field">
      <span>{label}</span>
      <input class="input input-sm" type="date" value={form?.[k] ?? ''} onInput={(e) => form && setForm({ ...form, [k]: e.currentTarget.value })} data-testid={`delegation-${k}`} />
    </label>
  );
  return (
    <div class="vm-quotas" data-testid="vm-delegations">
      <p class="muted">{t('delegation.hint')}</p>
      <DataTable
        label={t('delegation.title')}
        columns={cols}
        rows={rows}
        rowKey={(d) => d.id}
        error={error}
        onRetry={() => void load()}
        filterable
        toolbar={
          <button type="button" class="btn btn-sm" onClick={() => setForm({ ...EMPTY, start: today(), end: today() })} data-testid="delegation-new">
            {t('delegation.new')}
          </button>
        }
        empty={<div class="dt-state">{t('delegation.empty')}</div>}
      />
      {form && (
        <form class="vm-quota-edit" onSubmit={(e) => (e.preventDefault(), void save())} data-testid="delegation-form">
          {field('delegate', t('delegation.delegate'))}
          <label class="vm-quota-field">
            <span>{t('delegation.step')}</span>
            <select class="input input-sm" value={form.stage} onChange={(e) => setForm({ ...form, stage: e.currentTarget.value === 'admin' ? 'admin' : 'manager' })} data-testid="delegation-stage">
              <option value="manager">{t('delegation.stepManager')}</option>
              <option value="admin">{t('delegation.stepAdmin')}</option>
            </select>
          </label>
          {form.stage === 'manager' && field('department', t('delegation.department'))}
          {date('start', t('delegation.start'))}
          {date('end', t('delegation.end'))}
          {field('reason', t('delegation.reason'))}
          <button type="submit" class="btn btn-sm btn-primary" disabled={busy} data-testid="delegation-save">
            {t('delegation.save')}
          </button>
          <button type="button" class="btn btn-sm" onClick={() => setForm(null)}>
            {t('common.cancel')}
          </button>
        </form>
      )}
      <h3>{t('delegation.policies')}</h3>
      <p class="muted">{t('delegation.policiesHint')}</p>
      {policies.length === 0 && <p class="muted">{t('delegation.noPolicies')}</p>}
      <ul data-testid="escalation-policies">
        {policies.map((p) => (
          <li key={p.department}>
            <button type="button" class="btn btn-sm" onClick={() => setPolicy({ ...p })}>
              {t('delegation.policySaved', { department: p.department, hours: p.timeout_hours, to: p.escalate_to })}
            </button>
          </li>
        ))}
      </ul>
      <div class="vm-actions">
        <button type="button" class="btn btn-sm" onClick={() => setPolicy({ department: '', timeout_hours: 48, escalate_to: '' })} data-testid="escalation-new">
          {t('delegation.policies')} +
        </button>
        <button
          type="button"
          class="btn btn-sm"
          disabled={busy}
          onClick={() => void run(async () => t('delegation.escalatedCount', { n: (await api.vmsEscalate(false)).filter((s) => s.outcome === 'escalated').length }))}
          data-testid="escalate-now"
        >
          {t('delegation.escalateNow')}
        </button>
      </div>
      {policy && (
        <form class="vm-quota-edit" onSubmit={(e) => (e.preventDefault(), void savePolicy())} data-testid="escalation-form">
          <label class="vm-quota-field">
            <span>{t('delegation.department')}</span>
            <input class="input input-sm" value={policy.department} onInput={(e) => setPolicy({ ...policy, department: e.currentTarget.value })} />
          </label>
          <label class="vm-quota-field">
            <span>{t('delegation.timeout')}</span>
            <input class="input input-sm" type="number" min={1} max={8760} value={policy.timeout_hours} onInput={(e) => setPolicy({ ...policy, timeout_hours: Number(e.currentTarget.value) })} />
          </label>
          <label class="vm-quota-field">
            <span>{t('delegation.escalateTo')}</span>
            <input class="input input-sm" value={policy.escalate_to} onInput={(e) => setPolicy({ ...policy, escalate_to: e.currentTarget.value })} />
          </label>
          <button type="submit" class="btn btn-sm btn-primary" disabled={busy}>
            {t('common.save')}
          </button>
          <button type="button" class="btn btn-sm" onClick={() => setPolicy(null)}>
            {t('common.cancel')}
          </button>
        </form>
      )}
    </div>
  );
}
