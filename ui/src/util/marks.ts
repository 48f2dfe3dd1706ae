// Performance marks for the frames that matter (e.g. the Overview painted
// from the cache, then live). The benchmark reads them back through WebDriver
// (performance.getEntriesByName), so a figure is the app's own paint time,
// not a poll's granularity.

/** Marks `name` once the frame now being prepared has been painted. */
export function markPainted(name: string): void {
  if (typeof performance === 'undefined' || typeof requestAnimationFrame === 'undefined') return;
  // rAF runs before the frame is painted; a task queued from it runs after.
  requestAnimationFrame(() => setTimeout(() => performance.mark(name), 0));
}
