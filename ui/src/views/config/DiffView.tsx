// Unified line diff of two texts, +/- coloured, with old/new line numbers.
import { useMemo } from 'preact/hooks';
import { useT } from '../../i18n';
import { lineDiff } from './diff';

const MAX_DIFF_ROWS = 3000;

/** Unified line diff, +/- coloured, with old/new line numbers. */
export function DiffView({
  oldText,
  newText,
  context = 3,
  compact,
  legend,
}: {
  oldText: string;
  newText: string;
  context?: number | null;
  compact?: boolean;
  /** labels of the two sides, e.g. ["current", "your edit"] */
  legend?: [string, string];
}) {
  const t = useT();
  const d = useMemo(() => lineDiff(oldText, newText, context), [oldText, newText, context]);
  const rows = d.rows.slice(0, MAX_DIFF_ROWS);
  return (
    <div class={`diff${compact ? ' diff-compact' : ''}`}>
      <div class="diff-summary">
        {legend && (
          <span class="diff-legend">
            <span class="diff-legend-del">− {legend[0]}</span>
            <span class="diff-legend-add">+ {legend[1]}</span>
          </span>
        )}
        {d.same ? (
          <span class="muted">{t('config.diff.same')}</span>
        ) : (
          <span>
            <span class="diff-count-add">+{d.added}</span> <span class="diff-count-del">−{d.removed}</span>
          </span>
        )}
      </div>
      {!d.same && (
        <div class="diff-body" role="table" aria-label={t('config.diff.label')}>
          {rows.map((r, i) =>
            r.kind === 'skip' ? (
              <div class="diff-row diff-skip" key={i} role="row">
                <span class="diff-skip-text">{t('config.diff.skipped', { count: r.count })}</span>
              </div>
            ) : (
              <div class={`diff-row diff-${r.kind}`} key={i} role="row">
                <span class="diff-no">{r.oldNo ?? ''}</span>
                <span class="diff-no">{r.newNo ?? ''}</span>
                <span class="diff-sign">{r.kind === 'add' ? '+' : r.kind === 'del' ? '−' : ' '}</span>
                <span class="diff-text">{r.text || ' '}</span>
              </div>
            ),
          )}
          {d.rows.length > MAX_DIFF_ROWS && <div class="diff-row diff-skip">{t('config.diff.truncated', { count: d.rows.length - MAX_DIFF_ROWS })}</div>}
        </div>
      )}
    </div>
  );
}
