// Line diff for the save / conflict / history / compare dialogs (jsdiff), as
// rows ready to render: unified, with old/new line numbers and collapsed
// unchanged runs. Pure (unit tested in diff.test.ts).
import { diffLines } from 'diff';

export type DiffRow =
  | { kind: 'add' | 'del' | 'ctx'; oldNo: number | null; newNo: number | null; text: string }
  /** `count` unchanged lines left out */
  | { kind: 'skip'; count: number };

export interface DiffResult {
  rows: DiffRow[];
  added: number;
  removed: number;
  /** both sides are the same text */
  same: boolean;
}

function splitLines(value: string): string[] {
  const lines = value.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Unified line diff of `oldText` → `newText`. Unchanged runs longer than
 * 2×`context` lines are collapsed to a "skip" row (null context = keep all).
 */
export function lineDiff(oldText: string, newText: string, context: number | null = 3): DiffResult {
  const parts = diffLines(oldText, newText);
  const full: Exclude<DiffRow, { kind: 'skip' }>[] = [];
  let o = 1;
  let n = 1;
  let added = 0;
  let removed = 0;
  for (const part of parts) {
    for (const text of splitLines(part.value)) {
      if (part.added) {
        full.push({ kind: 'add', oldNo: null, newNo: n++, text });
        added++;
      } else if (part.removed) {
        full.push({ kind: 'del', oldNo: o++, newNo: null, text });
        removed++;
      } else {
        full.push({ kind: 'ctx', oldNo: o++, newNo: n++, text });
      }
    }
  }
  const same = added === 0 && removed === 0;
  if (context === null) return { rows: full, added, removed, same };

  const rows: DiffRow[] = [];
  let i = 0;
  while (i < full.length) {
    if (full[i].kind !== 'ctx') {
      rows.push(full[i++]);
      continue;
    }
    let j = i;
    while (j < full.length && full[j].kind === 'ctx') j++;
    const run = j - i;
    const keepHead = i === 0 ? 0 : context;
    const keepTail = j === full.length ? 0 : context;
    if (run > keepHead + keepTail + 1 && !(i === 0 && j === full.length)) {
      rows.push(...full.slice(i, i + keepHead));
      rows.push({ kind: 'skip', count: run - keepHead - keepTail });
      rows.push(...full.slice(j - keepTail, j));
    } else {
      rows.push(...full.slice(i, j));
    }
    i = j;
  }
  return { rows, added, removed, same };
}
