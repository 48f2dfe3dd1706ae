// What a re-match after an advisory import or a policy change changed: one
// line per image (its status before → after, the findings the new data adds
// or no longer reports, why it can no longer be assessed).
import type { Rematched } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { changeStatuses, statusBadge } from './fleet';

export function RematchChanges({ rematched }: { rematched: Rematched }) {
  const t = useT();
  const { changes, images, skipped } = rematched;
  return (
    <div class="img-rematch" data-testid="rematch-changes" data-changed={changes.length}>
      <p data-testid="rematch-head">{t('images.fleet.note.head', { count: changes.length, images, skipped })}</p>
      {changes.length > 0 && (
        <ul class="img-rematch-list">
          {changes.map((c) => {
            const [before, after] = changeStatuses(c);
            return (
              <li key={c.image_id} data-testid="rematch-change" data-image={c.image} data-before={before} data-after={after}>
                <span class="mono">{c.image}</span>{' '}
                <StatusBadge state={statusBadge(before)}>{t(`images.fleet.status.${before}`)}</StatusBadge>
                {before !== after && (
                  <>
                    {' → '}
                    <StatusBadge state={statusBadge(after)}>{t(`images.fleet.status.${after}`)}</StatusBadge>
                  </>
                )}
                {c.new_findings.length > 0 && <span class="img-rematch-part">{t('images.fleet.note.new', { ids: c.new_findings.join(', ') })}</span>}
                {c.fixed_findings.length > 0 && <span class="img-rematch-part">{t('images.fleet.note.fixed', { ids: c.fixed_findings.join(', ') })}</span>}
                {c.new_not_assessed.length > 0 && <span class="img-rematch-part img-rematch-na">{t('images.fleet.note.notAssessed', { reasons: c.new_not_assessed.join('; ') })}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
