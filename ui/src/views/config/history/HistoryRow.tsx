// One revision of the key: its number, version or deletion, format, a preview
// of its value, and (for an older value) diff and roll back.
import type { HistoryEntry } from '../../../api/types';
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';

const preview = (v: string) => (v.length > 160 ? `${v.slice(0, 160)}…` : v).replace(/\s+/g, ' ');

interface Props {
  entry: HistoryEntry;
  /** The newest revision listed, and the key's current one. */
  isCurrent: boolean;
  curRev: number;
  /** Rolling back needs the current value (its revision guards the write). */
  canRollback: boolean;
  onDiff: (e: HistoryEntry) => void;
  onRollback: (e: HistoryEntry) => void;
}

export function HistoryRow({ entry: e, isCurrent, curRev, canRollback, onDiff, onRollback }: Props) {
  const t = useT();
  return (
    <li class="cfg-history-row" data-testid="config-history-row" data-revision={e.mod_revision}>
      <div class="cfg-history-meta">
        <span class="cfg-history-rev">{t('config.history.revision', { revision: e.mod_revision })}</span>
        <span class="muted">{e.value === null ? t('config.history.deleted') : t('config.history.version', { version: e.version })}</span>
        {isCurrent && <span class="pill">{t('config.history.current')}</span>}
        {e.value !== null && <span class="muted">{t(`config.format.${e.format}`)}</span>}
      </div>
      <code class="cfg-history-preview">{e.value === null ? t('config.history.deletedValue') : preview(e.value) || t('config.history.emptyValue')}</code>
      <div class="cfg-history-actions">
        {e.value !== null && e.mod_revision !== curRev && (
          <>
            <button type="button" class="btn btn-sm" onClick={() => onDiff(e)} data-testid="config-history-diff">
              {t('config.history.diff')}
            </button>
            <button type="button" class="btn btn-sm" onClick={() => onRollback(e)} data-testid="config-rollback" disabled={!canRollback}>
              <Icon name="history" size={14} />
              {t('config.history.rollback')}
            </button>
          </>
        )}
      </div>
    </li>
  );
}
