// Blue/green behind one Service (docs/bluegreen.md): its colours (live,
// previous, switched at, kept until, each colour's Deployment readiness);
// deploy a new colour beside the live one with its steps live (deploy, wait
// ready, smoke, switch — events on a Channel, Stop before the switch);
// switch back in one click (confirmed) while the old colour is kept; clean up
// after the keep time. The backend audits every step.
import { Channel } from '@tauri-apps/api/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { calls, toAppError } from '../../api/client';
import type { AppError, BlueGreenEvent, BlueGreenService, BlueGreenStatus, DeployReport } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { newTaskId } from '../images/model';
import { cleanupRefusal, foldStep, pendingSteps, readySummary, STEPS, stepBadge, switchBackRefusal, type Refusal, type Steps } from './bluegreen';
import { ConnectionSelect, connectionsOf, contextsOf, ContextSelect } from './ContextPicker';
import type { Card } from './model';

const LOG_MAX = 200;

/** An error with a heading that says what it means for the Service. */
function ErrorBox({ error, testid }: { error: AppError; testid: string }) {
  const t = useT();
  const head = error.code === 'conflict' ? t('bluegreen.error.conflict') : error.code === 'cancelled' ? t('bluegreen.error.cancelled') : t('bluegreen.error.failed');
  return (
    <div class="form-error" role="alert" data-testid={testid} data-code={error.code}>
      <div>
        <strong>{head}</strong>
        <div class="bg-error-detail">{error.message}</div>
      </div>
    </div>
  );
}

export function BlueGreenPanel({ cards, onClose }: { cards: Map<string, Card>; onClose: () => void }) {
  const t = useT();
  const [connectionId, setConnectionId] = useState(connectionsOf(cards)[0]?.[0] ?? '');
  const [context, setContext] = useState(contextsOf(cards, connectionId)[0] ?? '');
  const [namespace, setNamespace] = useState('default');
  const [service, setService] = useState('');
  const [label, setLabel] = useState('version');
  const [status, setStatus] = useState<BlueGreenStatus | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [manifest, setManifest] = useState('');
  const [smokeUrls, setSmokeUrls] = useState('');
  const [checksFile, setChecksFile] = useState('');
  const [keep, setKeep] = useState('60');
  const [readyTimeout, setReadyTimeout] = useState('300');
  const [running, setRunning] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [steps, setSteps] = useState<Steps | null>(null);
  const [log, setLog] = useState<string[]>([]);
  const [report, setReport] = useState<DeployReport | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [acting, setActing] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [taskId] = useState(newTaskId);
  const task = useRef(taskId);

  const target = (): BlueGreenService => ({ connection_id: connectionId, context, namespace: namespace.trim(), service: service.trim(), label: label.trim() });

  // A panel closed while a deploy runs stops it before its switch.
  useEffect(() => () => void calls.bluegreenStop(task.current).catch(() => undefined), []);

  // `clear`: a fresh look (false after an action, whose error stays shown).
  const load = async (clear = true) => {
    setLoading(true);
    if (clear) setError(null);
    try {
      setStatus(await calls.bluegreenStatus(target()));
    } catch (e) {
      setStatus(null);
      setError(toAppError(e));
    }
    setLoading(false);
  };

  // A different Service: what was shown belongs to the old one.
  const edit = (set: (v: string) => void) => (v: string) => {
    set(v);
    setStatus(null);
    setSteps(null);
    setReport(null);
    setDone(null);
    setError(null);
  };

  const onEvent = (e: BlueGreenEvent) => {
    setSteps((s) => foldStep(s ?? pendingSteps(), e));
    setLog((l) => [...l.slice(-(LOG_MAX - 1)), `${t(`bluegreen.step.${e.step}`)}: ${e.message}`]);
  };

  const deploy = async () => {
    setRunning(true);
    setError(null);
    setReport(null);
    setDone(null);
    setLog([]);
    setSteps(pendingSteps());
    const input = {
      manifest,
      smoke_urls: smokeUrls.split('\n').map((u) => u.trim()).filter(Boolean),
      smoke_checks: checksFile.trim() || null,
      keep_minutes: Math.round(Number(keep)),
      ready_timeout_s: Math.round(Number(readyTimeout)),
    };
    try {
      setReport(await calls.bluegreenDeploy(target(), input, task.current, new Channel<BlueGreenEvent>(onEvent)));
    } catch (e) {
      setError(toAppError(e));
    }
    setRunning(false);
    setStopping(false);
    await load(false);
  };

  const stop = async () => {
    setStopping(true);
    await calls.bluegreenStop(task.current).catch(() => false);
  };

  const switchBack = async () => {
    setConfirming(false);
    setActing(true);
    setError(null);
    setDone(null);
    try {
      const s = await calls.bluegreenRollback(target(), Math.round(Number(keep)));
      setDone(t('bluegreen.switchedBack', { from: s.from ?? '-', to: s.to, until: s.keep_until }));
    } catch (e) {
      setError(toAppError(e));
    }
    setActing(false);
    await load(false);
  };

  const cleanup = async () => {
    setActing(true);
    setError(null);
    setDone(null);
    try {
      setDone(await calls.bluegreenCleanup(target()));
    } catch (e) {
      setError(toAppError(e));
    }
    setActing(false);
    await load(false);
  };

  const why = (r: Refusal) => (r ? t(r.key, r.values) : undefined);
  const back = status ? switchBackRefusal(status) : null;
  const clean = status ? cleanupRefusal(status, new Date()) : null;
  const keepOk = Number.isFinite(Number(keep)) && Number(keep) >= 0 && Number(keep) <= 129600;
  const readyOk = Number.isFinite(Number(readyTimeout)) && Number(readyTimeout) >= 1 && Number(readyTimeout) <= 3600;
  const canLoad = !loading && !running && context !== '' && namespace.trim() !== '' && service.trim() !== '';
  const canDeploy = status !== null && !running && !acting && manifest.trim() !== '' && keepOk && readyOk;

  return (
    <Modal
      title={t('bluegreen.title')}
      onClose={onClose}
      size="lg"
      testid="clusters-bluegreen"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose} data-testid="bg-close">
            {t('common.close')}
          </button>
          {running && (
            <button type="button" class="btn btn-danger" disabled={stopping} onClick={() => void stop()} data-testid="bg-stop">
              {stopping && <Spinner size="sm" />}
              {t('bluegreen.stop')}
            </button>
          )}
          <button type="button" class="btn btn-primary" disabled={!canDeploy} onClick={() => void deploy()} data-testid="bg-deploy">
            {running && <Spinner size="sm" />}
            {t('bluegreen.deploy')}
          </button>
        </>
      }
    >
      <p class="muted">{t('bluegreen.intro')}</p>
      <form
        class="ro-settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (canLoad) void load();
        }}
      >
        <ConnectionSelect cards={cards} value={connectionId} onChange={(id) => (edit(setConnectionId)(id), setContext(contextsOf(cards, id)[0] ?? ''))} testid="bg-connection" />
        <ContextSelect cards={cards} connectionId={connectionId} value={context} onChange={edit(setContext)} label={t('bluegreen.context')} testid="bg-context" />
        <label>
          {t('bluegreen.namespace')}
          <input class="input mono" value={namespace} onInput={(e) => edit(setNamespace)(e.currentTarget.value)} data-testid="bg-namespace" />
        </label>
        <label>
          {t('bluegreen.service')}
          <input class="input mono" value={service} onInput={(e) => edit(setService)(e.currentTarget.value)} data-testid="bg-service" placeholder="web" />
        </label>
        <label>
          {t('bluegreen.label')}
          <input class="input mono" value={label} onInput={(e) => edit(setLabel)(e.currentTarget.value)} data-testid="bg-label" />
        </label>
        <button type="submit" class="btn" disabled={!canLoad} data-testid="bg-load">
          {loading && <Spinner size="sm" />}
          {t('bluegreen.load')}
        </button>
      </form>

      {error && <ErrorBox error={error} testid="bg-error" />}
      {done && (
        <p class="bg-done" role="status" data-testid="bg-done">
          <StatusBadge state="ok">{done}</StatusBadge>
        </p>
      )}

      {status && (
        <section class="bg-status" data-testid="bg-status" data-live={status.live ?? ''} data-previous={status.previous ?? ''}>
          <h3>{t('bluegreen.statusTitle', { service: `${status.target.namespace}/${status.target.service}` })}</h3>
          <dl class="bg-facts">
            <dt>{t('bluegreen.live')}</dt>
            <dd class="mono" data-testid="bg-live">{status.live ?? '—'}</dd>
            <dt>{t('bluegreen.previous')}</dt>
            <dd class="mono" data-testid="bg-previous">{status.previous ?? '—'}</dd>
            <dt>{t('bluegreen.switchedAt')}</dt>
            <dd>{status.switched_at ?? '—'}</dd>
            <dt>{t('bluegreen.keepUntil')}</dt>
            <dd>{status.keep_until ?? '—'}</dd>
          </dl>
          {status.colours.length === 0 ? (
            <EmptyState icon="search" title={t('bluegreen.noColours', { label: status.target.label })} compact />
          ) : (
            <table class="ro-table bg-colours">
              <thead>
                <tr>
                  <th>{t('bluegreen.colour')}</th>
                  <th>{t('bluegreen.role')}</th>
                  <th>{t('bluegreen.deployment')}</th>
                  <th>{t('bluegreen.readiness')}</th>
                  <th>{t('bluegreen.images')}</th>
                </tr>
              </thead>
              <tbody>
                {status.colours.map((c) => (
                  <tr key={c.colour} data-testid="bg-colour" data-colour={c.colour} data-ready={String(c.ready)}>
                    <td class="mono">{c.colour}</td>
                    <td>{c.live ? <StatusBadge state="ok">{t('bluegreen.roleLive')}</StatusBadge> : c.previous ? <StatusBadge state="info">{t('bluegreen.rolePrevious')}</StatusBadge> : '—'}</td>
                    <td class="mono">{c.deployment}</td>
                    <td>
                      <StatusBadge state={c.ready ? 'ok' : c.rollout.deadline_exceeded ? 'error' : 'warn'}>{readySummary(c.rollout)}</StatusBadge>
                    </td>
                    <td class="mono ro-message" title={c.images.join(' ')}>
                      {c.images.join(' ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div class="bg-actions">
            <button type="button" class="btn btn-danger" disabled={back !== null || running || acting} title={why(back)} onClick={() => setConfirming(true)} data-testid="bg-switch-back">
              {t('bluegreen.switchBack', { colour: status.previous ?? '—' })}
            </button>
            <button type="button" class="btn" disabled={clean !== null || running || acting} title={why(clean)} onClick={() => void cleanup()} data-testid="bg-cleanup">
              {t('bluegreen.cleanup', { colour: status.previous ?? '—' })}
            </button>
            {(back || clean) && <span class="muted" data-testid="bg-why">{why(back ?? clean)}</span>}
          </div>
          {confirming && (
            <div class="bg-confirm" role="alertdialog" aria-labelledby="bg-confirm-text" data-testid="bg-confirm">
              <p id="bg-confirm-text">{t('bluegreen.confirmBack', { service: status.target.service, from: status.live ?? '—', to: status.previous ?? '—' })}</p>
              <button type="button" class="btn" onClick={() => setConfirming(false)} data-testid="bg-confirm-cancel">
                {t('common.cancel')}
              </button>
              <button type="button" class="btn btn-danger" autoFocus onClick={() => void switchBack()} data-testid="bg-confirm-yes">
                {t('bluegreen.switchBack', { colour: status.previous ?? '—' })}
              </button>
            </div>
          )}
        </section>
      )}

      {status && (
        <section class="bg-deploy" data-testid="bg-deploy-form">
          <h3>{t('bluegreen.deployTitle')}</h3>
          <textarea class="input mono cl-manifest" rows={6} value={manifest} onInput={(e) => setManifest(e.currentTarget.value)} placeholder="apiVersion: apps/v1&#10;kind: Deployment&#10;…" data-testid="bg-manifest" spellcheck={false} aria-label={t('bluegreen.manifest')} />
          <div class="ro-settings">
            <label>
              {t('bluegreen.smokeUrls')}
              <textarea class="input mono" rows={2} value={smokeUrls} onInput={(e) => setSmokeUrls(e.currentTarget.value)} placeholder="http://web-{colour}.shop:8080/healthz" data-testid="bg-smoke-urls" />
            </label>
            <label>
              {t('bluegreen.checksFile')}
              <input class="input mono" value={checksFile} onInput={(e) => setChecksFile(e.currentTarget.value)} placeholder="/path/to/checks.yaml" data-testid="bg-checks-file" />
            </label>
            <label>
              {t('bluegreen.keep')}
              <input class="input" type="number" min={0} max={129600} value={keep} onInput={(e) => setKeep(e.currentTarget.value)} data-testid="bg-keep" />
            </label>
            <label>
              {t('bluegreen.readyTimeout')}
              <input class="input" type="number" min={1} max={3600} value={readyTimeout} onInput={(e) => setReadyTimeout(e.currentTarget.value)} data-testid="bg-ready-timeout" />
            </label>
          </div>
        </section>
      )}

      {steps && (
        <ol class="bg-steps" data-testid="bg-steps">
          {STEPS.map((s) => (
            <li key={s} data-testid="bg-step" data-step={s} data-state={steps[s].state}>
              <StatusBadge state={stepBadge(steps[s].state)}>{t(`bluegreen.step.${s}`)}</StatusBadge>
              <span class="ro-message" title={steps[s].message}>
                {steps[s].message}
              </span>
            </li>
          ))}
        </ol>
      )}
      {report?.switched && (
        <p data-testid="bg-report">
          <StatusBadge state="ok">{t('bluegreen.switched', { from: report.switched.from ?? '—', to: report.switched.to, until: report.switched.keep_until })}</StatusBadge>
        </p>
      )}
      {log.length > 0 && (
        <details class="ro-log" open={running}>
          <summary>{t('rollout.log', { count: log.length })}</summary>
          <pre class="mono" data-testid="bg-log">{log.join('\n')}</pre>
        </details>
      )}
    </Modal>
  );
}
