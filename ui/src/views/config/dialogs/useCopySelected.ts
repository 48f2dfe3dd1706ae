// Copying the selected keys of a comparison from its left prefix to its right
// one: the confirmation step, its comment, and the report of the copy.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { CopyReport } from '../../../api/types';
import { useToast } from '../../../components/Toast';
import { useT } from '../../../i18n';
import type { Compare } from './useCompare';

export function useCopySelected(connId: string, compare: Compare, onCopied: () => void) {
  const t = useT();
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const [comment, setComment] = useState('');
  const [copying, setCopying] = useState(false);
  const [report, setReport] = useState<CopyReport | null>(null);

  const copy = async () => {
    const { result, selected, setError } = compare;
    if (!result) return;
    setCopying(true);
    setError(null);
    try {
      // Guarded by the revisions shown in this comparison: nothing the user did not see is copied.
      const rows = [...result.only_left, ...result.different].filter((d) => selected.has(d.rel));
      const items = rows.map((d) => ({ rel: d.rel, left_mod_revision: d.left_mod_revision, right_mod_revision: d.right_mod_revision }));
      const rep = await api.configCopy(connId, result.left, result.right, items, comment.trim());
      setReport(rep);
      setConfirming(false);
      if (rep.conflicts.length === 0) toast.push({ kind: 'ok', title: t('config.compare.copied', { count: rep.copied, to: result.right }) });
      onCopied();
      await compare.run();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setCopying(false);
    }
  };

  return { confirming, setConfirming, comment, setComment, copying, report, copy };
}

export type CopySelected = ReturnType<typeof useCopySelected>;
