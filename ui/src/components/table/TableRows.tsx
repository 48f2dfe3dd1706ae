// The body of a DataTable: a row per visible item (and its detail row when it
// has one). Keyboard: arrows, Home/End and Page keys move between rows (only
// up/down from a button inside a row), Enter activates; a double click too.
import type { ComponentChildren, TargetedKeyboardEvent } from 'preact';
import type { Column } from '../DataTable';
import { nextRowIndex } from '../tableUtils';
import type { RowFocus } from './useRowFocus';

const EDITABLE = 'input, select, textarea, [contenteditable="true"]';

interface Props<T> {
  columns: Column<T>[];
  visible: T[];
  rowKey: (row: T) => string | number;
  focus: RowFocus;
  rowAttrs?: (row: T) => Record<string, string | undefined>;
  rowClass?: (row: T) => string | undefined;
  onActivate?: (row: T) => void;
  expanded?: (row: T) => ComponentChildren | null;
}

export function TableRows<T>({ columns, visible, rowKey, focus, rowAttrs, rowClass, onActivate, expanded }: Props<T>) {
  const { activeIndex, setActive, bodyRef } = focus;

  const onKeyDown = (e: TargetedKeyboardEvent<HTMLTableSectionElement>) => {
    const target = e.target as HTMLElement;
    if (target.closest(EDITABLE)) return;
    const tr = target.closest<HTMLElement>('tr[data-row-index]');
    if (!tr) return;
    const index = Number(tr.dataset.rowIndex);
    if (e.key === 'Enter' && target === tr && onActivate) {
      e.preventDefault();
      onActivate(visible[index]);
      return;
    }
    // From a button inside a row only up/down move; Home/End/Page keys act on the row itself.
    if (target !== tr && e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const next = nextRowIndex(e.key, index, visible.length);
    if (next !== null) {
      e.preventDefault();
      focus.focusRow(next);
    }
  };

  return (
    <tbody ref={bodyRef} onKeyDown={onKeyDown}>
      {visible.map((row, i) => {
        const detail = expanded?.(row);
        const attrs = rowAttrs?.(row) ?? {};
        const extra = rowClass?.(row);
        return [
          <tr
            key={rowKey(row)}
            data-row-index={i}
            tabIndex={i === activeIndex ? 0 : -1}
            class={`dt-row${i === activeIndex ? ' dt-row-active' : ''}${extra ? ` ${extra}` : ''}`}
            onFocusIn={() => setActive(i)}
            onClick={(e) => {
              setActive(i);
              if (!(e.target as HTMLElement).closest('button, a, input, select, textarea')) {
                (e.currentTarget as HTMLElement).focus();
              }
            }}
            onDblClick={() => onActivate?.(row)}
            aria-expanded={expanded ? (detail ? 'true' : 'false') : undefined}
            {...attrs}
          >
            {columns.map((col) => (
              <td key={col.id} class={col.class}>
                {col.cell(row)}
              </td>
            ))}
          </tr>,
          detail ? (
            <tr key={`${rowKey(row)}-detail`} class="dt-detail">
              <td colSpan={columns.length}>{detail}</td>
            </tr>
          ) : null,
        ];
      })}
    </tbody>
  );
}
