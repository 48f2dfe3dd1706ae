// One section of a comparison (only left, different, only right): a title with
// a select-all box for the copyable ones, then its keys.
import type { PrefixDiff } from '../../../api/types';
import { useT } from '../../../i18n';
import { CompareRow, type Section } from './CompareRow';
import type { Compare } from './useCompare';

export function CompareSection({ section: s, result, compare }: { section: Section; result: PrefixDiff; compare: Compare }) {
  const t = useT();
  const { selected } = compare;
  const items = result[s];
  const copyable = items.filter(() => s !== 'only_right').map((d) => d.rel);
  const allOn = copyable.length > 0 && copyable.every((r) => selected.has(r));
  return (
    <section class="cmp-section" data-section={s}>
      <h3 class="cmp-section-title">
        {s !== 'only_right' && items.length > 0 && (
          <input type="checkbox" class="check" checked={allOn} aria-label={t('config.compare.selectAll')} onChange={() => compare.selectAll(copyable, !allOn)} />
        )}
        {t(`config.compare.section.${s}`, { left: result.left, right: result.right })}
        <span class="nav-count">{items.length}</span>
      </h3>
      {items.length === 0 ? (
        <p class="muted cmp-none">{t('config.compare.none')}</p>
      ) : (
        <ul class="cmp-list">
          {items.map((d) => (
            <CompareRow
              key={`${s}:${d.rel}`}
              section={s}
              item={d}
              selected={selected.has(d.rel)}
              open={compare.open.has(d.rel)}
              legend={[result.left, result.right]}
              onToggleSelected={compare.toggleSelected}
              onToggleOpen={compare.toggleOpen}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
