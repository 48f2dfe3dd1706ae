// The fleet: every scanned image's newest decision (after a re-match too),
// filtered by decision, with "Scan all" (two images at a time, progress in
// the workspace's bar, cancelled when the workspace is left) and the notes
// of what advisory and policy updates changed, kept so they can be opened later.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, FleetImage, RematchNote } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { StatusBadge } from '../../components/StatusBadge';
import type { TFn } from '../../i18n';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { FLEET_STATUSES, filterByStatus, fleetStatus, statusBadge, statusCounts, statusRank } from './fleet';
import type { FleetStatus } from './fleet';
import { RematchChanges } from './RematchChanges';

interface Props {
  /** Changes when scans or imports may have changed the fleet: reload. */
  version: number;
  language: string;
  scanning: boolean;
  /** Absent without a Docker engine (nothing to scan all of). */
  onScanAll?: () => void;
  onOpen: (scanId: number, image: string) => void;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

export function fleetColumns(t: TFn, language: string): Column<FleetImage>[] {
  const sev = SEVERITIES.map(
    (s): Column<FleetImage> => ({
      id: s,
      header: t(`images.fleet.col.${s}`),
      cell: (r) => (r.counts[s] ? r.counts[s] : <span class="muted">0</span>),
      sortValue: (r) => r.counts[s],
      class: 'col-num',
    }),
  );
  return [
    { id: 'image', header: t('images.col.image'), cell: (r) => <span class="mono">{r.image}</span>, sortValue: (r) => r.image, filterValue: (r) => `${r.image} ${r.image_id}` },
    { id: 'tags', header: t('images.fleet.col.tags'), cell: (r) => <span class="mono muted">{r.tags.join(', ')}</span>, filterValue: (r) => r.tags.join(' ') },
    {
      id: 'decision',
      header: t('images.col.decision'),
      cell: (r) => {
        const s = fleetStatus(r);
        return (
          <StatusBadge state={statusBadge(s)} class={s === 'NOT_ASSESSED' ? 'img-fleet-na' : undefined} title={s === 'NOT_ASSESSED' ? t('images.fleet.naTitle', { decision: r.decision }) : undefined}>
            {t(`images.fleet.status.${s}`)}
          </StatusBadge>
        );
      },
      sortValue: (r) => statusRank(fleetStatus(r)),
      filterValue: (r) => t(`images.fleet.status.${fleetStatus(r)}`),
    },
    ...sev,
    {
      id: 'suppressed',
      header: t('images.fleet.col.suppressed'),
      cell: (r) => (
        <span title={t('images.fleet.suppressedTitle', { live: r.suppressed, expired: r.expired_suppressions })}>
          {r.suppressed}
          {r.expired_suppressions > 0 && <span class="img-fleet-expired"> +{r.expired_suppressions}</span>}
        </span>
      ),
      sortValue: (r) => r.suppressed,
      class: 'col-num',
    },
    { id: 'scanned', header: t('images.col.scanned'), cell: (r) => <span title={formatDateTime(r.scanned_at)}>{formatRelative(r.scanned_at, language)}</span>, sortValue: (r) => r.scanned_at, class: 'col-time' },
    {
      id: 'asOf',
      header: t('images.fleet.col.asOf'),
      cell: (r) => (r.advisories_as_of ? <span title={r.advisories_as_of}>{formatDateTime(r.advisories_as_of)}</span> : <span class="muted">—</span>),
      sortValue: (r) => r.advisories_as_of ?? '',
      class: 'col-time',
    },
  ];
}

export function FleetView({ version, language, scanning, onScanAll, onOpen }: Props) {
  const t = useT();
  const [rows, setRows] = useState<FleetImage[] | null>(null);
  const [notes, setNotes] = useState<RematchNote[]>([]);
  const [error, setError] = useState<AppError | null>(null);
  const [chosen, setChosen] = useState<ReadonlySet<FleetStatus>>(new Set());
  const [showNotes, setShowNotes] = useState(false);

  const load = async () => {
    try {
      const [fleet, kept] = await Promise.all([api.imagesFleet(), api.imagesRematchNotes()]);
      setRows(fleet);
      setNotes(kept);
      setError(null);
    } catch (e) {
      setError(toAppError(e));
    }
  };
  useEffect(() => void load(), [version]);

  const counts = statusCounts(rows ?? []);
  const toggle = (s: FleetStatus) =>
    setChosen((prev) => {
      const next = new Set(prev);
      if (next.has(s)) next.delete(s);
      else next.add(s);
      return next;
    });
  const latest = notes[0];

  return (
    <div class="img-fleet" data-testid="images-fleet">
      {latest && (
        <div class="img-fleet-note" data-testid="fleet-latest-note">
          <Icon name="info" size={14} />
          <span>
            {t('images.fleet.note.latest', { cause: latest.cause, when: formatDateTime(latest.at), count: latest.changes.length })}
          </span>
          <button type="button" class="btn btn-sm" onClick={() => setShowNotes(true)} data-testid="fleet-notes-open">
            {t('images.fleet.note.open', { count: notes.length })}
          </button>
        </div>
      )}
      <DataTable
        label={t('images.tab.fleet')}
        columns={fleetColumns(t, language)}
        rows={rows ? filterByStatus(rows, chosen) : error ? null : null}
        rowKey={(r) => r.image_id}
        rowAttrs={(r) => ({ 'data-testid': 'fleet-row', 'data-image': r.image, 'data-status': fleetStatus(r) })}
        error={error}
        onRetry={() => void load()}
        filterable
        initialSort={{ column: 'decision', dir: 'asc' }}
        onActivate={(r) => onOpen(r.scan_id, r.image)}
        toolbar={
          <>
            <div class="seg" role="group" aria-label={t('images.fleet.filter')}>
              {FLEET_STATUSES.map((s) => (
                <button
                  key={s}
                  type="button"
                  class={`seg-btn${chosen.has(s) ? ' seg-btn-active' : ''}`}
                  aria-pressed={chosen.has(s)}
                  onClick={() => toggle(s)}
                  data-testid={`fleet-filter-${s}`}
                >
                  {t(`images.fleet.status.${s}`)} {counts[s]}
                </button>
              ))}
            </div>
            <span class="toolbar-spacer" />
            {onScanAll && (
              <button type="button" class="btn btn-sm btn-primary" onClick={onScanAll} disabled={scanning} data-testid="fleet-scan-all">
                <Icon name="play" size={14} />
                {t('images.fleet.scanAll')}
              </button>
            )}
          </>
        }
        empty={<div class="dt-state">{t('images.fleet.empty')}</div>}
      />
      {showNotes && (
        <Modal title={t('images.fleet.note.title')} onClose={() => setShowNotes(false)} testid="fleet-notes" size="lg">
          {notes.map((n) => (
            <section key={n.at} class="img-fleet-note-entry" data-testid="fleet-note">
              <h4>
                {formatDateTime(n.at)} · {n.cause}
              </h4>
              <RematchChanges rematched={n} />
            </section>
          ))}
        </Modal>
      )}
    </div>
  );
}
