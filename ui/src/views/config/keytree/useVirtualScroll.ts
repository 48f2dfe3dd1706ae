// The window of a virtualised list of fixed-height rows: the scroller's height
// (measured, and on resize), its scroll position (read once per frame), the
// rows in the window (plus overscan), and scrolling a row into view.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { windowOf } from '../tree';

export function useVirtualScroll(rowCount: number, rowHeight: number, overscan: number) {
  const scrollerRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const frameRef = useRef(0);

  useLayoutEffect(() => {
    const el = scrollerRef.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || 600);
    measure();
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(measure) : null;
    ro?.observe(el);
    return () => ro?.disconnect();
  }, []);

  const { start, end } = windowOf(scrollTop, viewport, rowHeight, rowCount, overscan);

  return {
    scrollerRef,
    viewport,
    start,
    end,
    onScroll: (e: Event) => {
      const top = (e.currentTarget as HTMLDivElement).scrollTop;
      cancelAnimationFrame(frameRef.current);
      frameRef.current = requestAnimationFrame(() => setScrollTop(top));
    },
    /** Scrolls just enough for row `i` to be in view. */
    scrollToIndex: (i: number) => {
      const el = scrollerRef.current;
      if (!el) return;
      const top = i * rowHeight;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
    },
  };
}
