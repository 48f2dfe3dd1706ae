// Utilisation (case 3: 主机利用率, 僵尸VM): clusters and hosts, CPU and memory
// used vs capacity (vCenter's quick stats, as govc), each host's window from
// the PerformanceManager, and every powered-on VM's idle verdict with the
// samples it stands on. An idle VM made by a request can be reclaimed: a lease
// change the department's manager decides (docs/vm-utilisation.md).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, ClusterUtilisation, HostUtilisation, IdleRules, UtilisationReport, VmActivity } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

const WINDOWS = [1, 24, 168, 720];
const pct = (used: number, cap: number) => (cap > 0 ? (100 * used) / cap : 0);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
const opt = (v: number | null | undefined, unit = '%') => (v == null ? '—' : `${v.toFixed(1)}${unit === '%' ? ' %' : ` ${unit}`}`);

function Bar({ used, cap, label }: { used: number; cap: number; label: string }) {
  const p = pct(used, cap);
  return (
    <span title={label}>
      {p.toFixed(1)} % <span class="muted">({label})</span>
    </span>
  );
}

export function UtilisationPanel({ connId, version }: { connId: string; version: number }) {
  const t = useT();
  const toast = useToast();
  const [report, setReport] = useState<UtilisationReport | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const [window, setWindow] = useState<number | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const rulesRef = useRef<IdleRules | null>(null);
  const inFlightRef = useRef(false);
  const load = () => {
    setLoading(true);
    // The saved rules with the window the user picked (the last report carries them).
    const saved = rulesRef.current;
    const rules = window == null || !saved ? null : { ...saved, window_hours: window };
    api.vmsUtilisation(connId, rules).then(
      (r) => ((rulesRef.current = rulesRef.current ?? r.rules), setReport(r), setError(null), setLoading(false)),
      (e) => (setError(toAppError(e)), setLoading(false)),
    );
  };
  useEffect(load, [connId, version, window]);

  const reclaim = async (v: VmActivity) => {
    // One at a time: a double click files one lease change (the ref, not the
    // state, which both clicks of one render would read as free).
    if (inFlightRef.current) return;
    inFlightRef.current = true;
    setBusy(v.vm_id);
    const end = new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10);
    try {
      await api.vmsReclaim(v.request, end, v.detail.slice(0, 480));
      toast.push({ kind: 'ok', title: t('utilisation.reclaimed', { vm: v.name, date: end }) });
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      inFlightRef.current = false;
      setBusy(null);
    }
  };

  const clusterCols: Column<ClusterUtilisation>[] = [
    { id: 'name', header: t('utilisation.cluster'), cell: (c) => <span class="mono">{c.name}</span>, sortValue: (c) => c.name },
    { id: 'hosts', header: t('utilisation.hosts'), cell: (c) => c.hosts, sortValue: (c) => c.hosts },
    { id: 'cpu', header: t('utilisation.cpu'), cell: (c) => <Bar used={c.cpu_used_mhz} cap={c.cpu_capacity_mhz} label={`${c.cpu_used_mhz} / ${c.cpu_capacity_mhz} MHz`} />, sortValue: (c) => pct(c.cpu_used_mhz, c.cpu_capacity_mhz) },
    { id: 'mem', header: t('utilisation.memory'), cell: (c) => <Bar used={c.memory_used_bytes} cap={c.memory_capacity_bytes} label={`${gib(c.memory_used_bytes)} / ${gib(c.memory_capacity_bytes)}`} />, sortValue: (c) => pct(c.memory_used_bytes, c.memory_capacity_bytes) },
    { id: 'vms', header: t('utilisation.vms'), cell: (c) => c.vms, sortValue: (c) => c.vms },
  ];
  const hostCols: Column<HostUtilisation>[] = [
    { id: 'name', header: t('utilisation.host'), cell: (h) => <span class="mono">{h.name}</span>, sortValue: (h) => h.name, filterValue: (h) => `${h.name} ${h.cluster}` },
    { id: 'cluster', header: t('utilisation.cluster'), cell: (h) => h.cluster || <span class="muted">—</span>, sortValue: (h) => h.cluster },
    { id: 'cpu', header: t('utilisation.cpu'), cell: (h) => <Bar used={h.cpu_used_mhz} cap={h.cpu_capacity_mhz} label={`${h.cpu_used_mhz} / ${h.cpu_capacity_mhz} MHz`} />, sortValue: (h) => pct(h.cpu_used_mhz, h.cpu_capacity_mhz) },
    { id: 'mem', header: t('utilisation.memory'), cell: (h) => <Bar used={h.memory_used_bytes} cap={h.memory_capacity_bytes} label={`${gib(h.memory_used_bytes)} / ${gib(h.memory_capacity_bytes)}`} />, sortValue: (h) => pct(h.memory_used_bytes, h.memory_capacity_bytes) },
    { id: 'cpuavg', header: t('utilisation.cpuAvg'), cell: (h) => opt(h.window.cpu_avg_pct), sortValue: (h) => h.window.cpu_avg_pct ?? -1 },
    { id: 'memavg', header: t('utilisation.memAvg'), cell: (h) => opt(h.window.mem_avg_pct), sortValue: (h) => h.window.mem_avg_pct ?? -1 },
    { id: 'samples', header: t('utilisation.samples'), cell: (h) => `${h.window.samples}/${h.window.expected}` },
  ];
  const vmCols: Column<VmActivity>[] = [
    { id: 'name', header: t('vms.inv.name'), cell: (v) => <span class="mono">{v.name}</span>, sortValue: (v) => v.name, filterValue: (v) => `${v.name} ${v.owner} ${v.department}` },
    {
      id: 'verdict',
      header: t('utilisation.verdict'),
      cell: (v) => (
        <StatusBadge state={v.verdict === 'idle' ? 'warn' : v.verdict === 'busy' ? 'ok' : 'never'} title={v.detail}>
          {t(`utilisation.verdicts.${v.verdict}`)}
        </StatusBadge>
      ),
      sortValue: (v) => v.verdict,
      filterValue: (v) => v.verdict,
    },
    { id: 'cpu', header: t('utilisation.cpuP95'), cell: (v) => opt(v.window.cpu_p95_pct), sortValue: (v) => v.window.cpu_p95_pct ?? -1 },
    { id: 'net', header: t('utilisation.netP95'), cell: (v) => opt(v.window.net_p95_kbps, 'KB/s'), sortValue: (v) => v.window.net_p95_kbps ?? -1 },
    { id: 'samples', header: t('utilisation.samples'), cell: (v) => `${v.window.samples}/${v.window.expected}`, sortValue: (v) => v.window.samples },
    { id: 'owner', header: t('vms.compliance.owner'), cell: (v) => v.owner || <span class="muted">—</span>, sortValue: (v) => v.owner },
    {
      id: 'act',
      header: '',
      cell: (v) =>
        v.verdict === 'idle' ? (
          v.request ? (
            <button type="button" class="btn btn-sm" disabled={busy !== null} onClick={() => void reclaim(v)} data-testid="utilisation-reclaim">
              {t('utilisation.reclaim')}
            </button>
          ) : (
            <span class="muted" title={t('utilisation.noRequest')}>—</span>
          )
        ) : null,
    },
  ];
  const r = report;
  return (
    <div class="stack" data-testid="vms-utilisation">
      <div class="row">
        <label>
          {t('utilisation.window')}{' '}
          <select value={String(window ?? r?.rules.window_hours ?? 168)} onChange={(e) => setWindow(Number((e.target as HTMLSelectElement).value))}>
            {WINDOWS.map((w) => (
              <option key={w} value={String(w)}>
                {t('utilisation.hoursN', { n: w })}
              </option>
            ))}
          </select>
        </label>
        {r && <span class="muted">{t('utilisation.rule', { cpu: r.rules.cpu_pct ?? 0, net: r.rules.net_kbps ?? 0, interval: r.interval_secs, at: r.at })}</span>}
      </div>
      <DataTable label={t('utilisation.clusters')} columns={clusterCols} rows={r ? r.clusters : null} rowKey={(c) => c.id} loading={loading} error={error} onRetry={load} initialSort={{ column: 'cpu', dir: 'desc' }} empty={<div class="dt-state">{t('utilisation.noClusters')}</div>} />
      <DataTable label={t('utilisation.hostsTitle')} columns={hostCols} rows={r ? r.hosts : null} rowKey={(h) => h.id} loading={loading} error={error} onRetry={load} filterable initialSort={{ column: 'cpu', dir: 'desc' }} empty={<div class="dt-state">{t('utilisation.noHosts')}</div>} />
      <DataTable label={t('utilisation.vmsTitle')} columns={vmCols} rows={r ? r.vms : null} rowKey={(v) => v.vm_id} rowAttrs={(v) => ({ 'data-testid': 'utilisation-vm', 'data-verdict': v.verdict })} loading={loading} error={error} onRetry={load} filterable initialSort={{ column: 'verdict', dir: 'asc' }} empty={<div class="dt-state">{t('utilisation.noVms')}</div>} />
    </div>
  );
}
