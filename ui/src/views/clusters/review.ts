// The apply review's verdicts and the unified diff's lines, as the review step shows them.
import type { ClusterReview } from '../../api/types';

export type ReviewVerdict = 'clean' | 'failed' | 'denied' | 'conflicts';

/** One cluster's verdict, the worst first: not reviewed, denied, conflicts, clean. */
export function verdict(r: ClusterReview): ReviewVerdict {
  if (r.error || r.objects.some((o) => o.error)) return 'failed';
  if (r.denied) return 'denied';
  if (r.conflicted) return 'conflicts';
  return 'clean';
}

/** What the review allows: apply (all clean), force (only conflicts in the way), or nothing. */
export function decision(reviews: ClusterReview[]): 'apply' | 'force' | 'blocked' {
  const v = reviews.map(verdict);
  if (v.length === 0 || v.some((x) => x === 'failed' || x === 'denied')) return 'blocked';
  return v.every((x) => x === 'clean') ? 'apply' : 'force';
}

export type DiffLine = { kind: 'add' | 'del' | 'hunk' | 'head' | 'ctx'; text: string };

/** Lines of a unified diff, classified for colouring. */
export function diffLines(diff: string): DiffLine[] {
  return diff
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((text): DiffLine => {
      if (text.startsWith('+++') || text.startsWith('---')) return { kind: 'head', text };
      if (text.startsWith('@@')) return { kind: 'hunk', text };
      if (text.startsWith('+')) return { kind: 'add', text };
      if (text.startsWith('-')) return { kind: 'del', text };
      return { kind: 'ctx', text };
    });
}
