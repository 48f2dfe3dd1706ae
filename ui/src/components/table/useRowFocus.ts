// The active row of a DataTable (the one in the tab order), and moving the
// focus to a row.
import { useRef, useState } from 'preact/hooks';

export function useRowFocus(rowCount: number) {
  const [active, setActive] = useState(0);
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  return {
    bodyRef,
    /** The active row, kept within the rows shown. */
    activeIndex: Math.min(active, Math.max(rowCount - 1, 0)),
    setActive,
    /** Focuses row `index` (and makes it the active one), scrolled into view. */
    focusRow: (index: number) => {
      const el = bodyRef.current?.querySelector<HTMLElement>(`tr[data-row-index="${index}"]`);
      if (el) {
        setActive(index);
        el.focus();
        el.scrollIntoView?.({ block: 'nearest' });
      }
    },
  };
}

export type RowFocus = ReturnType<typeof useRowFocus>;
