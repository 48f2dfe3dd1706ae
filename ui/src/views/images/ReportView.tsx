// A scan report: the decision and why (risk, violations), then the findings,
// packages and layers in sortable, filterable tables, and export.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { LayerRef, Package, ReportFormat, ScanReport, Vulnerability } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { Tabs } from '../../components/Tabs';
import { useT } from '../../i18n';
import { SuppressedList } from './SuppressedList';
import { formatDateTime } from '../../util/time';
import { severityBadge, severityRank, shortId } from './model';

type Tab = 'vulns' | 'packages' | 'layers';
/** Which layers the findings and packages shown come from. */
type Scope = 'all' | 'ours' | 'base';

const inScope = (scope: Scope, layer: LayerRef | null | undefined) => scope === 'all' || !layer || layer.base === (scope === 'base');

/** A finding's or package's file (and ecosystem), as the tables show it. */
function Where({ path, ecosystem }: { path: string | null | undefined; ecosystem?: string | null }) {
  if (!path) return <span class="muted">{ecosystem ?? ''}</span>;
  return (
    <span class="img-where" title={`/${path}`}>
      {ecosystem && <span class="img-eco">{ecosystem}</span>}
      <span class="mono img-wrap">/{path}</span>
    </span>
  );
}

/** The layer that introduced it: its index, base or own, and its instruction. */
function LayerCell({ layer }: { layer: LayerRef | null | undefined }) {
  const t = useT();
  if (!layer) return <span class="muted">—</span>;
  return (
    <span class="img-layer-cell" data-testid="scan-layer-cell" data-layer={layer.index} data-base={String(layer.base)} title={`${layer.digest}\n${layer.created_by ?? ''}`}>
      <span class={`img-layer-tag ${layer.base ? 'img-layer-base' : 'img-layer-own'}`}>
        #{layer.index} {layer.base ? t('images.report.baseLayer') : t('images.report.ownLayer')}
      </span>
      <span class="mono img-wrap">{layer.created_by ?? t('images.report.noInstruction')}</span>
    </span>
  );
}

export function ReportView({ report, scanId }: { report: ScanReport; scanId: number | null }) {
  const t = useT();
  const toast = useToast();
  const [tab, setTab] = useState<Tab>('vulns');
  const [scope, setScope] = useState<Scope>('all');
  const vulns = report.vulnerabilities.filter((v) => inScope(scope, v.layer));
  const packages = report.packages.filter((p) => inScope(scope, p.layer));
  const c = report.counts;
  const notAssessed = report.outcome === 'not_assessed';

  const copy = async (format: ReportFormat) => {
    if (scanId === null) return;
    try {
      const text = await api.imagesExport(scanId, format);
      await navigator.clipboard.writeText(text);
      toast.push({ kind: 'ok', title: t('images.report.copied', { format: format.toUpperCase(), size: text.length.toLocaleString() }) });
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  const vulnColumns: Column<Vulnerability>[] = [
    {
      id: 'severity',
      header: t('images.col.severity'),
      // The distribution's own word first (Debian urgency, Ubuntu priority, Red Hat severity), CVSS second.
      cell: (v) => (
        <span title={v.severity_source ? `${v.severity_source}${v.advisory_severity ? ` (CVSS: ${v.advisory_severity})` : ''}` : undefined}>
          <StatusBadge state={severityBadge(v.severity)}>{v.severity}</StatusBadge>
          {v.severity_source ? <span class="muted"> {v.severity_source}</span> : null}
        </span>
      ),
      sortValue: (v) => severityRank(v.severity),
      filterValue: (v) => `${v.severity} ${v.severity_source ?? ''}`,
      class: 'col-status',
    },
    { id: 'package', header: t('images.col.package'), cell: (v) => <span class="mono">{v.package}</span>, sortValue: (v) => v.package, filterValue: (v) => `${v.package} ${v.source ?? ''}` },
    { id: 'installed', header: t('images.col.installed'), cell: (v) => <span class="mono">{v.installed}</span>, filterValue: (v) => v.installed },
    {
      id: 'fixed',
      header: t('images.col.fixed'),
      cell: (v) =>
        v.fixed ? (
          <span class="mono">{v.fixed}</span>
        ) : v.fix_status === 'wont_fix' ? (
          <span class="muted" title={v.fix_note ?? undefined} data-testid="fix-wont">
            {t('images.report.wontFix')}
          </span>
        ) : (
          <span class="muted">{t('images.report.noFix')}</span>
        ),
      sortValue: (v) => (v.fixed ? 0 : v.fix_status === 'wont_fix' ? 2 : 1),
      // Filterable by status: "fixed", "no fix yet", "won't fix".
      filterValue: (v) => (v.fixed ? `${v.fixed} ${t('images.report.fixed')}` : v.fix_status === 'wont_fix' ? t('images.report.wontFix') : t('images.report.noFix')),
    },
    { id: 'ids', header: t('images.col.advisories'), cell: (v) => <span class="mono">{v.ids.join(', ')}</span>, sortValue: (v) => v.ids[0], filterValue: (v) => v.ids.join(' ') },
    { id: 'summary', header: t('images.col.summary'), cell: (v) => <span class="truncate" title={v.summary}>{v.summary}</span>, filterValue: (v) => v.summary, class: 'col-wide' },
    { id: 'where', header: t('images.col.location'), cell: (v) => <Where path={v.path} ecosystem={v.ecosystem} />, sortValue: (v) => v.path ?? '', filterValue: (v) => `${v.ecosystem ?? ''} ${v.path ?? ''}` },
    { id: 'layer', header: t('images.col.layer'), cell: (v) => <LayerCell layer={v.layer} />, sortValue: (v) => v.layer?.index ?? -1, filterValue: (v) => v.layer?.created_by ?? '' },
  ];
  const pkgColumns: Column<Package>[] = [
    { id: 'name', header: t('images.col.package'), cell: (p) => <span class="mono">{p.name}</span>, sortValue: (p) => p.name, filterValue: (p) => p.name },
    { id: 'version', header: t('images.col.version'), cell: (p) => <span class="mono">{p.version}</span>, filterValue: (p) => p.version },
    { id: 'source', header: t('images.col.source'), cell: (p) => <span class="mono">{p.source_name ?? ''}</span>, sortValue: (p) => p.source_name ?? '', filterValue: (p) => p.source_name ?? '' },
    { id: 'arch', header: t('images.col.arch'), cell: (p) => p.arch ?? '', sortValue: (p) => p.arch ?? '' },
    { id: 'scheme', header: t('images.col.manager'), cell: (p) => p.scheme, sortValue: (p) => p.scheme, filterValue: (p) => p.scheme },
    { id: 'where', header: t('images.col.location'), cell: (p) => <Where path={p.path} />, sortValue: (p) => p.path ?? '', filterValue: (p) => p.path ?? '' },
    { id: 'layer', header: t('images.col.layer'), cell: (p) => <LayerCell layer={p.layer} />, sortValue: (p) => p.layer?.index ?? -1, filterValue: (p) => p.layer?.created_by ?? '' },
  ];

  return (
    <div class="img-report" data-testid="scan-report">
      <div
        class={`img-decision img-decision-${notAssessed ? 'not-assessed' : report.decision.toLowerCase()}`}
        data-testid="scan-decision"
        data-decision={report.decision}
        data-outcome={report.outcome}
      >
        <div class="img-decision-main">
          <span class="img-decision-word">{report.decision}</span>
          {notAssessed && <span class="img-not-assessed-word">{t('images.report.notAssessed')}</span>}
          <span>{notAssessed ? t('images.report.notAssessedHint') : t(`images.decision.${report.decision}`)}</span>
        </div>
        <div class="img-stats">
          <span title={t('images.report.scoreHint')}>
            {t('images.report.risk')} <strong data-testid="scan-risk">{report.risk_score}</strong> ({report.risk_level})
          </span>
          <span class="img-count img-count-critical">{t('images.sev.CRITICAL')} {c.critical}</span>
          <span class="img-count img-count-high">{t('images.sev.HIGH')} {c.high}</span>
          <span class="img-count">{t('images.sev.MEDIUM')} {c.medium}</span>
          <span class="img-count">{t('images.sev.LOW')} {c.low}</span>
        </div>
      </div>
      <div class="img-meta">
        <span>{report.os?.pretty_name ?? t('images.report.unknownOs')}</span>
        <span class="muted">{report.ecosystem ? t('images.report.matchedIn', { ecosystem: report.ecosystem }) : t('images.report.notMatched')}</span>
        <span class="muted">{t('images.report.packages', { count: report.packages.length })}</span>
        <span class="muted">
          {t('images.report.layers', { count: report.layers.length, cached: report.layers.filter((l) => l.from_cache).length })}
        </span>
        <span class="muted" title={report.scanned_at}>
          {formatDateTime(report.scanned_at)} · {report.duration_ms} ms
        </span>
        <span class="toolbar-spacer" />
        <span class="img-exports">
          {(['json', 'sarif', 'cyclonedx', 'spdx-json'] as const).map((f) => (
            <button key={f} type="button" class="btn btn-sm" disabled={scanId === null} onClick={() => void copy(f)} data-testid={`scan-export-${f}`} title={t('images.report.copyTitle')}>
              <Icon name="copy" size={14} />
              {f === 'cyclonedx' ? 'CycloneDX' : f === 'spdx-json' ? 'SPDX' : f.toUpperCase()}
            </button>
          ))}
        </span>
      </div>
      {notAssessed && (
        <ul class="img-not-assessed" role="alert" aria-label={t('images.report.notAssessed')} data-testid="scan-not-assessed">
          {report.not_assessed.map((why) => (
            <li key={why}>
              <Icon name="alert" size={14} />
              <span>{why}</span>
            </li>
          ))}
        </ul>
      )}
      <SuppressedList kind="expired" list={report.expired_suppressions} />
      <SuppressedList kind="suppressed" list={report.suppressed} />
      {report.violations.length > 0 && (
        <ul class="img-violations" aria-label={t('images.report.violations')}>
          {report.violations.map((v) => (
            <li key={v.policy} data-testid="scan-violation" data-policy={v.policy}>
              <Icon name="alert" size={14} />
              <strong>{t(`images.policy.name.${v.policy}`)}</strong>
              <span>{v.details}</span>
            </li>
          ))}
        </ul>
      )}
      {report.notes.length > 0 && (
        <ul class="img-notes">
          {report.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <Tabs
        tabs={['vulns', 'packages', 'layers'] as const}
        value={tab}
        onChange={setTab}
        testid="scan-tab"
        label={(k) => t(`images.report.tab.${k}`, { count: k === 'vulns' ? vulns.length : k === 'packages' ? packages.length : report.layers.length })}
      />
      <label class="img-scope">
        {t('images.report.scope.label')}{' '}
        <select value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as Scope)} data-testid="scan-layer-scope">
          {(['all', 'ours', 'base'] as const).map((s) => (
            <option key={s} value={s}>
              {t(`images.report.scope.${s}`)}
            </option>
          ))}
        </select>
      </label>
      {tab === 'vulns' && (
        <DataTable
          label={t('images.report.tab.vulns', { count: vulns.length })}
          columns={vulnColumns}
          rows={vulns}
          rowKey={(v) => `${v.package}|${v.path ?? ''}|${v.ids[0]}`}
          rowAttrs={(v) => ({ 'data-testid': 'scan-vuln-row', 'data-id': v.ids[0], 'data-package': v.package, 'data-layer': String(v.layer?.index ?? '') })}
          filterable
          initialSort={{ column: 'severity', dir: 'asc' }}
          empty={<div class="dt-state">{report.ecosystem ? t('images.report.noVulns') : t('images.report.noOs')}</div>}
        />
      )}
      {tab === 'packages' && (
        <DataTable label={t('images.report.tab.packages', { count: packages.length })} columns={pkgColumns} rows={packages} rowKey={(p) => `${p.scheme}|${p.name}|${p.version}|${p.arch ?? ''}|${p.path ?? ''}`} filterable initialSort={{ column: 'name', dir: 'asc' }} />
      )}
      {tab === 'layers' && (
        <ol class="img-layers">
          {report.layers.map((l, i) => (
            <li key={`${i}-${l.digest}`} data-testid="scan-layer" data-base={String(l.base)}>
              <span class="mono">{shortId(l.digest)}</span>
              <span class={`img-layer-tag ${l.base ? 'img-layer-base' : 'img-layer-own'}`}>{l.base ? t('images.report.baseLayer') : t('images.report.ownLayer')}</span>
              <span class="mono truncate" title={l.created_by ?? ''}>{l.created_by ?? t('images.report.noInstruction')}</span>
              <span class="muted">{l.from_cache ? t('images.report.fromCache') : t('images.report.read')}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
