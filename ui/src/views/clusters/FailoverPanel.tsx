// Failover of marked workloads (docs/failover.md): pick the source cluster,
// preview the plan (its health, the workloads marked opsdeck.dev/failover,
// each target's health and free capacity, where each workload goes and why,
// the hook that will run), then Run with its progress live and the hook's
// result; Fail back once the source is healthy again (disabled with the reason
// otherwise). The backend writes, waits and audits (`failover.*`).
import { Channel } from '@tauri-apps/api/core';
import { useState } from 'preact/hooks';
import { calls, toAppError } from '../../api/client';
import type { AppError, CallResult, FailbackReport, FailoverHook, FailoverPlan, FailoverReport } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge, type BadgeState } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { cores, failbackRefusal, gib, runRefusal, type Refusal } from './bluegreen';
import { ConnectionSelect, connectionsOf, contextsOf, ContextSelect, verdictOf } from './ContextPicker';
import type { Card } from './model';

type HookKind = 'none' | 'command' | 'webhook';
const LOG_MAX = 200;

const verdictBadge = (v: string): BadgeState => (v === 'healthy' ? 'ok' : v === 'degraded' ? 'warn' : 'error');

function HookResult({ hook }: { hook: CallResult | null }) {
  const t = useT();
  if (!hook) return <p class="muted" data-testid="fo-hook-result" data-ok="none">{t('failover.hookNotRun')}</p>;
  return (
    <p data-testid="fo-hook-result" data-ok={String(hook.ok)}>
      <StatusBadge state={hook.ok ? 'ok' : 'error'}>{t(hook.ok ? 'failover.hookOk' : 'failover.hookFailed', { ms: hook.duration_ms })}</StatusBadge> <span class="mono">{hook.message}</span>
    </p>
  );
}

export function FailoverPanel({ cards, onClose }: { cards: Map<string, Card>; onClose: () => void }) {
  const t = useT();
  const [connectionId, setConnectionId] = useState(connectionsOf(cards)[0]?.[0] ?? '');
  const firstUnwell = (id: string) => {
    const all = contextsOf(cards, id);
    return all.find((c) => verdictOf(cards, id, c) !== 'healthy') ?? all[0] ?? '';
  };
  const [source, setSource] = useState(() => firstUnwell(connectionId));
  const [hookKind, setHookKind] = useState<HookKind>('none');
  const [hookValue, setHookValue] = useState('');
  const [plan, setPlan] = useState<FailoverPlan | null>(null);
  const [busy, setBusy] = useState<'plan' | 'run' | 'failback' | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [log, setLog] = useState<string[]>([]);
  const [report, setReport] = useState<FailoverReport | null>(null);
  const [failback, setFailback] = useState<FailbackReport | null>(null);

  const reset = () => {
    setPlan(null);
    setReport(null);
    setFailback(null);
    setError(null);
    setLog([]);
  };
  const hook = (): FailoverHook | null => (hookKind === 'none' || !hookValue.trim() ? null : hookKind === 'command' ? { kind: 'command', value: hookValue.trim() } : { kind: 'webhook', value: hookValue.trim() });
  const onLine = (l: string) => setLog((x) => [...x.slice(-(LOG_MAX - 1)), l]);

  const preview = async () => {
    setBusy('plan');
    reset();
    try {
      setPlan(await calls.failoverPlan(connectionId, source));
    } catch (e) {
      setError(toAppError(e));
    }
    setBusy(null);
  };

  const run = async () => {
    setBusy('run');
    setError(null);
    setLog([]);
    setReport(null);
    try {
      const r = await calls.failoverRun(connectionId, source, hook(), new Channel<string>(onLine));
      setReport(r);
      setPlan(r.plan);
    } catch (e) {
      setError(toAppError(e));
    }
    setBusy(null);
  };

  const back = async () => {
    setBusy('failback');
    setError(null);
    setLog([]);
    setFailback(null);
    try {
      setFailback(await calls.failoverFailback(connectionId, source, hook(), new Channel<string>(onLine)));
    } catch (e) {
      setError(toAppError(e));
    }
    setBusy(null);
  };

  const why = (r: Refusal) => (r ? t(r.key, r.values) : undefined);
  const runWhy = plan ? runRefusal(plan) : { key: 'failover.why.previewFirst' };
  const liveVerdict = verdictOf(cards, connectionId, source);
  const backWhy = failbackRefusal(source, liveVerdict);
  const backWhyText = backWhy ? t(backWhy.key, { source, verdict: liveVerdict ? t(`clusters.verdict.${liveVerdict}`) : t('failover.unknown') }) : undefined;
  const hookOk = hookKind === 'none' || hookValue.trim() !== '';

  return (
    <Modal
      title={t('failover.title')}
      onClose={onClose}
      size="lg"
      testid="clusters-failover"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} data-testid="fo-close">
            {t('common.close')}
          </button>
          <button type="button" class="btn" disabled={busy !== null || backWhy !== null || !hookOk} title={backWhyText} onClick={() => void back()} data-testid="fo-failback">
            {busy === 'failback' && <Spinner size="sm" />}
            {t('failover.failback')}
          </button>
          <button type="button" class="btn btn-danger" disabled={busy !== null || runWhy !== null || !hookOk} title={why(runWhy)} onClick={() => void run()} data-testid="fo-run">
            {busy === 'run' && <Spinner size="sm" />}
            {t('failover.run')}
          </button>
        </>
      }
    >
      <p class="muted">{t('failover.intro')}</p>
      <form
        class="ro-settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (busy === null && source) void preview();
        }}
      >
        <ConnectionSelect cards={cards} value={connectionId} onChange={(id) => (setConnectionId(id), setSource(firstUnwell(id)), reset())} testid="fo-connection" />
        <ContextSelect cards={cards} connectionId={connectionId} value={source} onChange={(c) => (setSource(c), reset())} label={t('failover.source')} testid="fo-source" />
        <label>
          {t('failover.hook')}
          <select class="input" value={hookKind} onChange={(e) => setHookKind(e.currentTarget.value as HookKind)} data-testid="fo-hook-kind">
            <option value="none">{t('failover.hookNone')}</option>
            <option value="command">{t('failover.hookCommand')}</option>
            <option value="webhook">{t('failover.hookWebhook')}</option>
          </select>
        </label>
        {hookKind !== 'none' && (
          <label>
            {hookKind === 'command' ? t('failover.hookCommand') : t('failover.hookWebhook')}
            <input class="input mono" value={hookValue} onInput={(e) => setHookValue(e.currentTarget.value)} placeholder={hookKind === 'command' ? './switch-dns.sh' : 'https://lb.example/failover'} data-testid="fo-hook-value" />
          </label>
        )}
        <button type="submit" class="btn" disabled={busy !== null || !source} data-testid="fo-preview">
          {busy === 'plan' && <Spinner size="sm" />}
          {t('failover.preview')}
        </button>
      </form>

      {error && (
        <div class="form-error" role="alert" data-testid="fo-error" data-code={error.code}>
          <div>
            <strong>{t('failover.error')}</strong>
            <div>{error.message}</div>
          </div>
        </div>
      )}

      {plan && (
        <section class="fo-plan" data-testid="fo-plan" data-needed={String(plan.needed)}>
          <h3>
            {t('failover.sourceTitle', { source: plan.source })}{' '}
            <StatusBadge state={verdictBadge(plan.source_verdict)}>{t(`clusters.verdict.${plan.source_verdict}`)}</StatusBadge>
          </h3>
          {plan.source_reasons.length > 0 && (
            <ul class="fo-reasons">
              {plan.source_reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          )}
          <p class="muted" data-testid="fo-specs-from">
            {t(plan.specs_from === 'cache' ? 'failover.specsCache' : 'failover.specsLive', { at: plan.specs_seen_at ?? '—' })}
          </p>
          <h4>{t('failover.targets')}</h4>
          <table class="ro-table">
            <thead>
              <tr>
                <th>{t('failover.cluster')}</th>
                <th>{t('failover.health')}</th>
                <th>{t('failover.nodes')}</th>
                <th>{t('failover.cpuFree')}</th>
                <th>{t('failover.memFree')}</th>
                <th>{t('failover.notes')}</th>
              </tr>
            </thead>
            <tbody>
              {plan.candidates.map((c) => (
                <tr key={c.context} data-testid="fo-candidate" data-context={c.context}>
                  <td class="mono">{c.context}</td>
                  <td>
                    <StatusBadge state={verdictBadge(c.verdict)}>{t(`clusters.verdict.${c.verdict}`)}</StatusBadge>
                  </td>
                  <td>{c.capacity?.nodes ?? '—'}</td>
                  <td>{c.capacity ? `${cores(c.capacity.cpu_allocatable_milli - c.capacity.cpu_requested_milli)} / ${cores(c.capacity.cpu_allocatable_milli)}` : '—'}</td>
                  <td>{c.capacity ? `${gib(c.capacity.memory_allocatable - c.capacity.memory_requested)} / ${gib(c.capacity.memory_allocatable)} GiB` : '—'}</td>
                  <td class="ro-message" title={c.reasons.join('; ')}>
                    {c.reasons.join('; ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>{t('failover.workloads')}</h4>
          {plan.placements.length === 0 ? (
            <EmptyState icon="search" title={t('failover.why.nothingMarked', { source: plan.source })} compact />
          ) : (
            <table class="ro-table">
              <thead>
                <tr>
                  <th>{t('failover.workload')}</th>
                  <th>{t('failover.replicas')}</th>
                  <th>{t('failover.target')}</th>
                  <th>{t('failover.why.title')}</th>
                </tr>
              </thead>
              <tbody>
                {plan.placements.map((p) => {
                  const copy = report?.copies.find((c) => c.namespace === p.namespace && c.name === p.name);
                  return (
                    <tr key={`${p.namespace}/${p.name}`} data-testid="fo-placement" data-workload={`${p.namespace}/${p.name}`} data-target={p.target ?? ''}>
                      <td class="mono">
                        {p.namespace}/{p.name}
                      </td>
                      <td>{p.replicas}</td>
                      <td class="mono">{p.target ?? <StatusBadge state="error">{t('failover.noTarget')}</StatusBadge>}</td>
                      <td class="ro-message" title={copy?.error ?? p.why}>
                        {copy ? <StatusBadge state={copy.ok ? 'ok' : 'error'}>{copy.ok ? t('failover.available') : copy.error ?? ''}</StatusBadge> : p.why}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <p data-testid="fo-hook-plan">
            {hook() ? t('failover.hookWillRun', { kind: t(hookKind === 'command' ? 'failover.hookCommand' : 'failover.hookWebhook'), value: hookValue.trim() }) : t('failover.noHook')}
          </p>
          {runWhy && <p class="muted" data-testid="fo-run-why">{why(runWhy)}</p>}
        </section>
      )}

      {report && (
        <section data-testid="fo-report" data-ok={String(report.ok)}>
          <StatusBadge state={report.ok ? 'ok' : 'error'}>{t(report.ok ? 'failover.done' : 'failover.notDone', { count: report.copies.length })}</StatusBadge>
          <HookResult hook={report.hook} />
        </section>
      )}
      {failback && (
        <section data-testid="fo-failback-report" data-ok={String(failback.ok)}>
          <StatusBadge state={failback.ok ? 'ok' : 'error'}>{t('failover.failedBack', { count: failback.removed.length })}</StatusBadge>
          <HookResult hook={failback.hook} />
        </section>
      )}
      {backWhyText && (plan || report) && <p class="muted" data-testid="fo-failback-why">{backWhyText}</p>}
      {log.length > 0 && (
        <details class="ro-log" open>
          <summary>{t('rollout.log', { count: log.length })}</summary>
          <pre class="mono" data-testid="fo-log">{log.join('\n')}</pre>
        </details>
      )}
    </Modal>
  );
}
