// State of the Move prefix dialog: plan (reads only), then apply exactly that
// plan with progress after each committed batch, then the report.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, MoveProgress, MoveReport, PromotePlan } from '../../../api/types';

/** Keys per move transaction (relocate::MOVE_BATCH_KEYS: two operations per key, 128 per transaction). */
export const MOVE_BATCH_KEYS = 64;

export function useMove(connId: string, initialFrom: string) {
  const [from, setFrom] = useState(initialFrom);
  const [to, setTo] = useState(initialFrom.replace(/\/?$/, '-moved/'));
  const [plan, setPlan] = useState<PromotePlan | null>(null);
  const [report, setReport] = useState<MoveReport | null>(null);
  const [progress, setProgress] = useState<MoveProgress | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  const existing = plan ? plan.items.filter((i) => i.target_mod_revision !== 0).length : 0;

  const makePlan = async () => {
    setBusy(true);
    setError(null);
    setReport(null);
    setPlan(null);
    try {
      setPlan(await api.configMovePlan(connId, from.trim(), to.trim()));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  const apply = async (overwrite: boolean, comment: string) => {
    if (!plan) return;
    setBusy(true);
    setError(null);
    setProgress(null);
    try {
      const r = await api.configMoveApply(connId, plan, overwrite, comment, setProgress);
      setReport(r);
      setPlan(null);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return { from, setFrom, to, setTo, plan, report, progress, error, busy, existing, makePlan, apply };
}
