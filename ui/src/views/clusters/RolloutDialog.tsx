// Progressive rollout of a manifest across the clusters of one connection
// (docs/rollouts.md): the plan of waves as typed (canary, 25%, rest), then
// the run with live progress per wave and cluster — each step arrives on a
// Channel — a Stop button while it runs, and Roll back when a failed or
// stopped run changed clusters that were not rolled back.
import { Channel } from '@tauri-apps/api/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { calls, toAppError } from '../../api/client';
import type { RolloutEvent, RolloutPhase, RolloutReport, Wave } from '../../api/types';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge, type BadgeState } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { newTaskId } from '../images/model';
import { ConnectionSelect, connectionsOf, contextsOf } from './ContextPicker';
import type { Card } from './model';

/** Where one cluster stands in the run, from the events seen so far. */
export interface ClusterState {
  phase: RolloutPhase;
  message: string;
}

export function badgeOf(phase: RolloutPhase): BadgeState {
  switch (phase) {
    case 'done':
    case 'rolled_back':
      return 'ok';
    case 'failed':
    case 'rollback_failed':
      return 'error';
    case 'applying':
    case 'waiting':
    case 'soaking':
    case 'rolling_back':
      return 'running';
    case 'skipped':
      return 'info';
    default:
      return 'never';
  }
}

/** Folds an event into the per-cluster states (events without a phase are log lines only). */
export function fold(states: Map<string, ClusterState>, e: RolloutEvent): Map<string, ClusterState> {
  if (!e.context || !e.phase) return states;
  const next = new Map(states);
  next.set(e.context, { phase: e.phase, message: e.message });
  return next;
}

const LOG_MAX = 200;

export function RolloutDialog({ cards, onClose }: { cards: Map<string, Card>; onClose: () => void }) {
  const t = useT();
  const [connectionId, setConnectionId] = useState(connectionsOf(cards)[0]?.[0] ?? '');
  const contexts = contextsOf(cards, connectionId);
  const [selected, setSelected] = useState<string[]>([]);
  const [manifest, setManifest] = useState('');
  const [waves, setWaves] = useState('');
  const [soak, setSoak] = useState('30');
  const [timeout, setTimeoutMin] = useState('5');
  const [autoRollback, setAutoRollback] = useState(false);
  const [plan, setPlan] = useState<Wave[] | null>(null);
  const [planError, setPlanError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [states, setStates] = useState<Map<string, ClusterState>>(new Map());
  const [log, setLog] = useState<string[]>([]);
  const [report, setReport] = useState<RolloutReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rollingBack, setRollingBack] = useState(false);
  const [taskId] = useState(newTaskId);
  const task = useRef(taskId);

  // The plan follows the chosen clusters and the waves as typed.
  const selectedKey = selected.join('\n');
  useEffect(() => {
    const selected = selectedKey ? selectedKey.split('\n') : [];
    if (selected.length === 0) {
      setPlan(null);
      setPlanError(null);
      return;
    }
    let live = true;
    calls
      .clustersRolloutPlan(selected, waves)
      .then((p) => live && (setPlan(p), setPlanError(null)))
      .catch((e) => live && (setPlan(null), setPlanError(toAppError(e).message)));
    return () => {
      live = false;
    };
  }, [selectedKey, waves]);

  // A dialog closed while a rollout runs stops it (at its next safe point).
  useEffect(() => () => void calls.clustersRolloutStop(task.current).catch(() => undefined), []);

  const onEvent = (e: RolloutEvent) => {
    setStates((s) => fold(s, e));
    const where = e.context ? `${e.wave != null ? `${t('rollout.wave', { n: e.wave + 1 })} ` : ''}${e.context}: ` : '';
    const line = `[${(e.elapsed_ms / 1000).toFixed(1)}s] ${where}${e.phase ? `${t(`rollout.phase.${e.phase}`)} — ` : ''}${e.message}`;
    setLog((l) => [...l.slice(-(LOG_MAX - 1)), line]);
  };

  const toggle = (c: string) => setSelected((s) => (s.includes(c) ? s.filter((x) => x !== c) : [...s, c]));

  const start = async () => {
    setRunning(true);
    setReport(null);
    setError(null);
    setLog([]);
    setStates(new Map(selected.map((c) => [c, { phase: 'pending' as RolloutPhase, message: '' }])));
    const options = {
      waves,
      soak_ms: Math.round(Number(soak) * 1000),
      timeout_ms: Math.round(Number(timeout) * 60_000),
      auto_rollback: autoRollback,
    };
    try {
      const r = await calls.clustersRollout(connectionId, selected, manifest, options, task.current, new Channel<RolloutEvent>(onEvent));
      setReport(r);
    } catch (e) {
      setError(toAppError(e).message);
    }
    setRunning(false);
    setStopping(false);
  };

  const stop = async () => {
    setStopping(true);
    await calls.clustersRolloutStop(task.current).catch(() => false);
  };

  const rollback = async () => {
    if (!report) return;
    setRollingBack(true);
    try {
      const restored = await calls.clustersRolloutRollback(report.id, new Channel<RolloutEvent>(onEvent));
      const ok = Object.values(restored).every((r) => (r ?? []).every((x) => !x.error));
      setReport({ ...report, can_roll_back: !ok, rolled_back: ok });
    } catch (e) {
      setError(toAppError(e).message);
    }
    setRollingBack(false);
  };

  const soakOk = Number.isFinite(Number(soak)) && Number(soak) >= 0 && Number(soak) <= 3600;
  const timeoutOk = Number.isFinite(Number(timeout)) && Number(timeout) > 0 && Number(timeout) <= 60;
  const canStart = !running && plan !== null && manifest.trim() !== '' && soakOk && timeoutOk;
  const started = running || report !== null || log.length > 0;
  const outcome: BadgeState | null = report ? (report.outcome === 'completed' ? 'ok' : report.outcome === 'stopped' ? 'warn' : 'error') : running ? 'running' : null;
  // Back to the form (manifest, clusters and settings kept) for another run.
  const again = () => {
    setReport(null);
    setError(null);
    setLog([]);
    setStates(new Map());
  };

  return (
    <Modal
      title={t('rollout.title')}
      onClose={onClose}
      size="lg"
      testid="clusters-rollout"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.close')}
          </button>
          {running && (
            <button type="button" class="btn btn-danger" disabled={stopping} onClick={() => void stop()} data-testid="rollout-stop">
              {stopping && <Spinner size="sm" />}
              {t('rollout.stop')}
            </button>
          )}
          {report?.can_roll_back && (
            <button type="button" class="btn btn-danger" disabled={rollingBack} onClick={() => void rollback()} data-testid="rollout-rollback">
              {rollingBack && <Spinner size="sm" />}
              {t('rollout.rollback')}
            </button>
          )}
          {started && !running && (
            <button type="button" class="btn" disabled={rollingBack} onClick={again} data-testid="rollout-again">
              {t('rollout.again')}
            </button>
          )}
          {!started && (
            <button type="button" class="btn btn-primary" disabled={!canStart} onClick={() => void start()} data-testid="rollout-start">
              {t('rollout.start', { count: selected.length })}
            </button>
          )}
        </>
      }
    >
      {!started && (
        <>
          <p class="muted">{t('rollout.intro')}</p>
          <textarea class="input mono cl-manifest" rows={8} value={manifest} onInput={(e) => setManifest(e.currentTarget.value)} placeholder="apiVersion: apps/v1&#10;kind: Deployment&#10;…" data-testid="rollout-manifest" spellcheck={false} />
          <div class="ro-settings">
            <ConnectionSelect cards={cards} value={connectionId} onChange={(id) => (setConnectionId(id), setSelected([]))} testid="rollout-connection" />
            <label>
              {t('rollout.waves')}
              <input class="input mono" value={waves} onInput={(e) => setWaves(e.currentTarget.value)} placeholder="canary=ctx-a,25%,rest" data-testid="rollout-waves" />
            </label>
            <label>
              {t('rollout.soak')}
              <input class="input" type="number" min={0} max={3600} value={soak} onInput={(e) => setSoak(e.currentTarget.value)} data-testid="rollout-soak" />
            </label>
            <label>
              {t('rollout.timeout')}
              <input class="input" type="number" min={1} max={60} value={timeout} onInput={(e) => setTimeoutMin(e.currentTarget.value)} data-testid="rollout-timeout" />
            </label>
            <label class="check ro-auto">
              <input type="checkbox" checked={autoRollback} onChange={() => setAutoRollback(!autoRollback)} data-testid="rollout-auto-rollback" />
              <span>{t('rollout.autoRollback')}</span>
            </label>
          </div>
          <fieldset class="cl-targets">
            <legend>{t('rollout.targets')}</legend>
            {contexts.map((c) => (
              <label key={c} class="check" data-testid="rollout-context" data-context={c}>
                <input type="checkbox" checked={selected.includes(c)} onChange={() => toggle(c)} />
                <span>{c}</span>
                {selected.includes(c) && <span class="muted ro-order">#{selected.indexOf(c) + 1}</span>}
              </label>
            ))}
          </fieldset>
          {planError && <p class="error-inline-text" data-testid="rollout-plan-error">{planError}</p>}
        </>
      )}
      {plan && (
        <div class="ro-plan" data-testid="rollout-plan">
          {outcome && (
            <p class="ro-outcome" data-testid="rollout-outcome" data-outcome={report?.outcome ?? 'running'}>
              <StatusBadge state={outcome}>
                {report ? t(`rollout.outcome.${report.outcome}`, { id: report.id }) : stopping ? t('rollout.stopping') : t('rollout.running')}
              </StatusBadge>
              {report?.rolled_back && <span class="muted"> {t('rollout.rolledBack')}</span>}
              {report?.can_roll_back && <span class="muted"> {t('rollout.canRollBack')}</span>}
            </p>
          )}
          {report?.error && <p class="error-inline-text">{report.error}</p>}
          {error && <p class="error-inline-text" data-testid="rollout-error">{error}</p>}
          {plan.map((w, i) => (
            <section key={`${i}-${w.name}`} class="ro-wave" data-testid="rollout-wave" data-wave={i + 1}>
              <h3>
                {t('rollout.wave', { n: i + 1 })} <span class="muted">{w.name}</span>
              </h3>
              <table class="ro-table">
                <tbody>
                  {w.contexts.map((c) => {
                    const s = states.get(c) ?? { phase: 'pending' as RolloutPhase, message: '' };
                    return (
                      <tr key={c} data-testid="rollout-cluster" data-context={c} data-phase={s.phase}>
                        <td class="ro-context mono">{c}</td>
                        <td class="ro-phase">
                          <StatusBadge state={badgeOf(s.phase)}>{t(`rollout.phase.${s.phase}`)}</StatusBadge>
                        </td>
                        <td class="ro-message" title={s.message}>
                          {s.message}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          ))}
        </div>
      )}
      {log.length > 0 && (
        <details class="ro-log" open={running}>
          <summary>{t('rollout.log', { count: log.length })}</summary>
          <pre class="mono" data-testid="rollout-log">{log.join('\n')}</pre>
        </details>
      )}
    </Modal>
  );
}
