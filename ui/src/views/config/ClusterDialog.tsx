// The cluster behind the etcd connection: members (name, URLs, learner),
// the leader, raft term and index, each member's DB size and in-use size
// against the backend quota, the version, the active alarms, and for each
// warning the etcdctl commands that fix it — shown, never run. The quota is
// a setting of the connection (etcd before 3.6 does not report it).
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, ClusterMember, ClusterView, QuotaSource } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { humanBytes, parseQuota } from './clusterView';

const SOURCE_KEY: Record<QuotaSource, string> = {
  reported: 'config.ops.cluster.sourceReported',
  setting: 'config.ops.cluster.sourceSetting',
  default: 'config.ops.cluster.sourceDefault',
};

/** Numbers the contract types as number | null (a float that is not finite serialises as null). */
const n = (x: number | null): number => x ?? 0;

function role(m: ClusterMember): 'leader' | 'learner' | 'follower' {
  return m.is_leader ? 'leader' : m.is_learner ? 'learner' : 'follower';
}

export function ClusterDialog({ connId, onClose }: { connId: string; onClose: () => void }) {
  const t = useT();
  const toast = useToast();
  const [view, setView] = useState<ClusterView | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(true);
  const [quota, setQuota] = useState('');
  const [quotaError, setQuotaError] = useState<string | null>(null);

  const load = async () => {
    setLoading(true);
    setError(null);
    try {
      setView(await api.configCluster(connId, null));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load();
    void api
      .configClusterSettings(connId)
      .then((s) => setQuota(s.quota_backend_bytes ? String(s.quota_backend_bytes) : ''))
      .catch(() => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps -- loads once per connection
  }, [connId]);

  const saveQuota = async () => {
    const bytes = parseQuota(quota);
    if (bytes !== null && Number.isNaN(bytes)) {
      setQuotaError(t('config.ops.cluster.quotaInvalid'));
      return;
    }
    setQuotaError(null);
    try {
      await api.configSetClusterSettings(connId, { quota_backend_bytes: bytes });
      toast.push({ kind: 'ok', title: t('config.ops.cluster.quotaSaved') });
      await load();
    } catch (e) {
      setQuotaError(toAppError(e).message);
    }
  };

  const copy = (text: string) => {
    void navigator.clipboard?.writeText(text).then(() => toast.push({ kind: 'ok', title: t('config.ops.cluster.copied') }));
  };

  return (
    <Modal title={t('config.ops.cluster.title')} onClose={onClose} size="xl" testid="config-cluster">
      <div class="clu-head">
        {view && (
          <span class="mono clu-summary" data-testid="config-cluster-summary">
            {t('config.ops.cluster.summary', {
              id: view.cluster_id,
              leader: view.leader || t('config.ops.cluster.noLeader'),
              term: n(view.raft_term),
              index: n(view.raft_index),
              version: view.version,
              revision: n(view.revision),
            })}
          </span>
        )}
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm" onClick={() => void load()} disabled={loading} data-testid="config-cluster-refresh">
          {loading ? <Spinner /> : <Icon name="refresh" size={14} />}
          {t('config.ops.cluster.refresh')}
        </button>
      </div>
      {error && <ErrorState error={error} title={t('config.ops.cluster.failed')} onRetry={() => void load()} />}
      {!view && loading && !error && (
        <p class="muted" role="status">
          <Spinner /> {t('config.ops.cluster.loading')}
        </p>
      )}
      {view && view.members.length === 0 && <EmptyState compact icon="config" title={t('config.ops.cluster.empty')} />}
      {view && view.members.length > 0 && (
        <>
          <h3 class="clu-h">{t('config.ops.cluster.members')}</h3>
          <div class="clu-table-wrap">
            <table class="clu-table" data-testid="config-cluster-members">
              <thead>
                <tr>
                  {(['colName', 'colId', 'colRole', 'colPeer', 'colClient', 'colDb', 'colInUse', 'colQuota', 'colUsed', 'colVersion'] as const).map((c) => (
                    <th key={c} scope="col">
                      {t(`config.ops.cluster.${c}`)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {view.members.map((m) => (
                  <tr key={m.id} data-testid="config-cluster-member" data-role={role(m)}>
                    <td>{m.name || <span class="muted">{t('config.ops.cluster.notStarted')}</span>}</td>
                    <td class="mono">{m.id}</td>
                    <td>
                      <span class={`clu-role clu-role-${role(m)}`}>{t(`config.ops.cluster.${role(m)}`)}</span>
                    </td>
                    <td class="mono clu-urls">{m.peer_urls.join(', ')}</td>
                    <td class="mono clu-urls">{m.client_urls.join(', ')}</td>
                    {m.status ? (
                      <>
                        <td class="num">{humanBytes(n(m.status.db_size))}</td>
                        <td class="num">{humanBytes(n(m.status.db_size_in_use))}</td>
                      </>
                    ) : (
                      <td colSpan={2} class="muted" title={m.status_error ?? ''}>
                        {t('config.ops.cluster.unreachable')}
                      </td>
                    )}
                    <td class="num" title={t(SOURCE_KEY[m.quota_source])}>
                      {humanBytes(n(m.quota_bytes))} <span class="muted">({t(SOURCE_KEY[m.quota_source])})</span>
                    </td>
                    <td class={`num ${n(m.used_percent) > 80 ? 'clu-hot' : ''}`}>{m.status ? `${n(m.used_percent).toFixed(1)}%` : '–'}</td>
                    <td class="mono">{m.status?.version ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3 class="clu-h">{t('config.ops.cluster.alarms')}</h3>
          {view.alarms.length === 0 ? (
            <p class="muted" data-testid="config-cluster-no-alarms">
              {t('config.ops.cluster.noAlarms')}
            </p>
          ) : (
            <ul class="clu-alarms">
              {view.alarms.map((a) => (
                <li key={`${a.member_id}-${a.alarm}`} class="clu-alarm" data-testid="config-cluster-alarm" data-alarm={a.alarm}>
                  <Icon name="alert" size={14} /> {t('config.ops.cluster.alarm', { alarm: a.alarm, member: a.member || a.member_id })}
                </li>
              ))}
            </ul>
          )}
          <h3 class="clu-h">{t('config.ops.cluster.warnings')}</h3>
          {view.warnings.length === 0 ? (
            <p class="muted">{t('config.ops.cluster.noWarnings')}</p>
          ) : (
            view.warnings.map((w, i) => (
              <div key={i} class={`banner ${w.severity === 'critical' ? 'banner-error' : 'banner-warn'} clu-warning`} data-testid="config-cluster-warning" data-kind={w.kind}>
                <Icon name="alert" class="banner-icon" />
                <strong class="banner-title">
                  {t(w.severity === 'critical' ? 'config.ops.cluster.critical' : 'config.ops.cluster.warning')}
                  {w.member ? ` · ${w.member}` : ''}
                </strong>
                <span class="banner-body">{w.message}</span>
                <span class="banner-body muted">{t('config.ops.cluster.commandsHint')}</span>
                <pre class="clu-cmds mono" data-testid="config-cluster-commands">{w.commands.join('\n')}</pre>
                <button type="button" class="btn btn-sm btn-ghost" onClick={() => copy(w.commands.join('\n'))}>
                  <Icon name="copy" size={14} />
                  {t('config.ops.cluster.copy')}
                </button>
              </div>
            ))
          )}
        </>
      )}
      <form
        class="clu-quota"
        onSubmit={(e) => {
          e.preventDefault();
          void saveQuota();
        }}
      >
        <label class="field-label" for="clu-quota">
          {t('config.ops.cluster.quota')}
        </label>
        <input
          id="clu-quota"
          class="input input-sm mono"
          value={quota}
          placeholder={t('config.ops.cluster.quotaPlaceholder')}
          data-testid="config-cluster-quota"
          onInput={(e) => setQuota((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" class="btn btn-sm">
          {t('config.ops.cluster.quotaSave')}
        </button>
        {quotaError && <span class="error-inline-text">{quotaError}</span>}
        <p class="muted clu-quota-help">{t('config.ops.cluster.quotaHelp')}</p>
      </form>
    </Modal>
  );
}
