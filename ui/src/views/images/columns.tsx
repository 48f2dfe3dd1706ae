// The tables of the Images workspace: images, containers (each with the
// decision of its latest scan and a scan button) and the scan history.
import type { ContainerRow, ImageRow, ScanSummary } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { StatusBadge } from '../../components/StatusBadge';
import type { TFn } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { decisionBadge, formatSize, imageRef, shortId } from './model';

/** The decision and risk of the latest scan of an image, or "not scanned". */
export function DecisionCell({ latest, t }: { latest: ScanSummary | undefined; t: TFn }) {
  return latest ? (
    <StatusBadge state={decisionBadge(latest.decision)} title={formatDateTime(latest.scanned_at)}>
      {latest.decision} · {latest.risk_score}
    </StatusBadge>
  ) : (
    <span class="muted">{t('images.notScanned')}</span>
  );
}

export function imageColumns(t: TFn, language: string, latest: Map<string, ScanSummary>, onScan: (image: string) => void): Column<ImageRow>[] {
  return [
    { id: 'ref', header: t('images.col.image'), cell: (r) => <span class="mono">{r.tags.join(', ') || t('images.untagged')}</span>, sortValue: (r) => imageRef(r), filterValue: (r) => `${r.tags.join(' ')} ${r.id}` },
    { id: 'id', header: t('images.col.id'), cell: (r) => <span class="mono muted">{shortId(r.id)}</span>, filterValue: (r) => r.id },
    { id: 'size', header: t('images.col.size'), cell: (r) => formatSize(r.size), sortValue: (r) => r.size, class: 'col-num' },
    { id: 'created', header: t('images.col.created'), cell: (r) => formatRelative(new Date(r.created * 1000).toISOString(), language), sortValue: (r) => r.created, class: 'col-time' },
    { id: 'containers', header: t('images.col.containers'), cell: (r) => r.containers, sortValue: (r) => r.containers, class: 'col-num' },
    { id: 'decision', header: t('images.col.decision'), cell: (r) => <DecisionCell latest={latest.get(r.id)} t={t} />, sortValue: (r) => latest.get(r.id)?.risk_score ?? -1 },
    {
      id: 'actions',
      header: '',
      cell: (r) => (
        <button type="button" class="btn btn-sm" onClick={() => onScan(imageRef(r))} data-testid="image-scan">
          <Icon name="play" size={12} />
          {t('images.scan.button')}
        </button>
      ),
      class: 'col-actions',
    },
  ];
}

export function containerColumns(t: TFn, latest: Map<string, ScanSummary>, onScan: (image: string) => void): Column<ContainerRow>[] {
  return [
    { id: 'name', header: t('images.col.container'), cell: (c) => <span class="mono">{c.name}</span>, sortValue: (c) => c.name, filterValue: (c) => c.name },
    { id: 'image', header: t('images.col.image'), cell: (c) => <span class="mono">{c.image}</span>, sortValue: (c) => c.image, filterValue: (c) => c.image },
    { id: 'state', header: t('images.col.state'), cell: (c) => <StatusBadge state={c.state === 'running' ? 'ok' : 'never'}>{c.state}</StatusBadge>, sortValue: (c) => c.state, filterValue: (c) => c.state },
    { id: 'status', header: t('images.col.status'), cell: (c) => c.status, filterValue: (c) => c.status },
    { id: 'decision', header: t('images.col.decision'), cell: (c) => <DecisionCell latest={latest.get(c.image_id)} t={t} /> },
    {
      id: 'actions',
      header: '',
      cell: (c) => (
        <button type="button" class="btn btn-sm" onClick={() => onScan(c.image_id)}>
          <Icon name="play" size={12} />
          {t('images.scan.button')}
        </button>
      ),
      class: 'col-actions',
    },
  ];
}

export function historyColumns(t: TFn, language: string): Column<ScanSummary>[] {
  return [
    { id: 'time', header: t('images.col.scanned'), cell: (s) => <span title={formatDateTime(s.scanned_at)}>{formatRelative(s.scanned_at, language)}</span>, sortValue: (s) => s.scanned_at, class: 'col-time' },
    { id: 'image', header: t('images.col.image'), cell: (s) => <span class="mono">{s.image}</span>, sortValue: (s) => s.image, filterValue: (s) => `${s.image} ${s.image_id}` },
    { id: 'decision', header: t('images.col.decision'), cell: (s) => <StatusBadge state={decisionBadge(s.decision)}>{s.decision}</StatusBadge>, sortValue: (s) => s.decision, filterValue: (s) => s.decision },
    { id: 'risk', header: t('images.col.risk'), cell: (s) => s.risk_score, sortValue: (s) => s.risk_score, class: 'col-num' },
  ];
}
