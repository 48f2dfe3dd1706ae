// One key of a comparison: its select box, its revisions on each side, and its
// diff (keys that differ, opened on demand) or its value (keys on one side only).
import type { DiffItem } from '../../../api/types';
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';
import { DiffView } from '../DiffView';

export type Section = 'only_left' | 'only_right' | 'different';

interface Props {
  section: Section;
  item: DiffItem;
  selected: boolean;
  open: boolean;
  /** The two prefixes, left then right (the diff's legend). */
  legend: [string, string];
  onToggleSelected: (rel: string) => void;
  onToggleOpen: (rel: string) => void;
}

export function CompareRow({ section, item: d, selected, open: isOpen, legend, onToggleSelected, onToggleOpen }: Props) {
  const t = useT();
  const copyable = section !== 'only_right';
  return (
    <li class={`cmp-row cmp-${section}`} data-testid="config-diff-row" data-rel={d.rel} data-section={section}>
      <div class="cmp-row-head">
        <input
          type="checkbox"
          class="check"
          checked={selected}
          disabled={!copyable}
          aria-label={t('config.compare.select', { rel: d.rel })}
          onChange={() => onToggleSelected(d.rel)}
        />
        <span class="mono cmp-rel">{d.rel}</span>
        {(d.left_binary || d.right_binary) && (
          <span class="pill" title={t('config.compare.binaryTitle')} data-testid="config-diff-binary">
            {t('config.compare.binary')}
          </span>
        )}
        <span class="muted cmp-revs">
          {section !== 'only_right' && t('config.compare.leftRev', { revision: d.left_mod_revision })}
          {section === 'different' && ' · '}
          {section !== 'only_left' && t('config.compare.rightRev', { revision: d.right_mod_revision })}
        </span>
        <span class="toolbar-spacer" />
        {section === 'different' && (
          <button type="button" class="btn btn-sm btn-ghost" aria-expanded={isOpen} onClick={() => onToggleOpen(d.rel)}>
            <Icon name={isOpen ? 'chevronDown' : 'chevronRight'} size={14} />
            {t('config.compare.showDiff')}
          </button>
        )}
      </div>
      {section === 'different' && isOpen && <DiffView compact oldText={d.left ?? ''} newText={d.right ?? ''} legend={legend} />}
      {section !== 'different' && <code class="cmp-preview">{(section === 'only_left' ? d.left : d.right) ?? ''}</code>}
    </li>
  );
}
