// Compare two prefixes: the two prefixes typed, the last comparison, and which
// of its keys are selected (to copy) and opened (to show their diff).
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, PrefixDiff } from '../../../api/types';

/** A prefix as compared: trimmed, with a trailing "/" (empty stays empty). */
export const normPrefix = (p: string) => (p.trim() && !p.trim().endsWith('/') ? `${p.trim()}/` : p.trim());

/** The right side first offered: the `/prod/` twin of a `/dev/` prefix, else nothing. */
export function guessRight(left: string): string {
  const guess = left.replace(/\/dev\/$/, '/prod/');
  return guess !== left ? guess : '';
}

/** `set` with `item` added, or removed when it was there (a new Set). */
export function toggled(set: Set<string>, item: string): Set<string> {
  const n = new Set(set);
  if (n.has(item)) n.delete(item);
  else n.add(item);
  return n;
}

export function useCompare(connId: string, initialLeft: string) {
  const [left, setLeft] = useState(initialLeft);
  const [right, setRight] = useState(guessRight(initialLeft));
  const [result, setResult] = useState<PrefixDiff | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [running, setRunning] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<Set<string>>(new Set());

  /** Compares the two prefixes (normalised first); a new result clears the selection and opens the first three diffs. */
  const run = async () => {
    const l = normPrefix(left);
    const r = normPrefix(right);
    setLeft(l);
    setRight(r);
    if (!l || !r) return;
    setRunning(true);
    setError(null);
    try {
      const res = await api.configCompare(connId, l, r);
      setResult(res);
      setSelected(new Set());
      setOpen(new Set(res.different.slice(0, 3).map((d) => d.rel)));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setRunning(false);
    }
  };

  return {
    left,
    setLeft,
    right,
    setRight,
    result,
    error,
    setError,
    running,
    selected,
    open,
    run,
    toggleSelected: (rel: string) => setSelected((s) => toggled(s, rel)),
    toggleOpen: (rel: string) => setOpen((s) => toggled(s, rel)),
    /** Selects (on) or unselects all of `rels`. */
    selectAll: (rels: string[], on: boolean) =>
      setSelected((cur) => {
        const n = new Set(cur);
        for (const r of rels) {
          if (on) n.add(r);
          else n.delete(r);
        }
        return n;
      }),
  };
}

export type Compare = ReturnType<typeof useCompare>;
