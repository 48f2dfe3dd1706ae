// Promotion between two etcd connections: plan (what differs, with values and
// the revisions seen on both sides), choose items (removes only when ticked),
// apply exactly that plan with progress, and keep the report so a stopped
// run can resume after what landed. Into a protected prefix of the target's
// team store the plan is not applied: it is filed as a change request carrying
// the reviewed values and revisions (`filed`), approved and published by others.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, ChangeView, PromotePlan_Serialize, PromoteProgress, PromoteReport_Serialize } from '../../../api/types';

export function usePromote(fromConnId: string, initialPrefix: string) {
  const [fromPrefix, setFromPrefix] = useState(initialPrefix);
  const [toConnId, setToConnId] = useState('');
  const [toPrefix, setToPrefix] = useState(initialPrefix);
  const [plan, setPlan] = useState<PromotePlan_Serialize | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [progress, setProgress] = useState<PromoteProgress | null>(null);
  const [report, setReport] = useState<PromoteReport_Serialize | null>(null);
  /** The protected prefixes the plan writes under (then it is filed, not applied). */
  const [protectedBy, setProtectedBy] = useState<string[]>([]);
  const [filed, setFiled] = useState<ChangeView | null>(null);

  const makePlan = async () => {
    setBusy(true);
    setError(null);
    setReport(null);
    setProgress(null);
    setFiled(null);
    setProtectedBy([]);
    try {
      const p = await api.configPromotePlan(fromConnId, fromPrefix.trim(), toConnId, toPrefix.trim());
      setPlan(p);
      // Adds and changes are chosen; a remove only when the user ticks it.
      setSelected(new Set(p.items.filter((i) => i.action !== 'remove').map((i) => i.rel)));
      // Every item, removes included: a protected target is filed whatever is ticked.
      setProtectedBy(p.items.length ? await api.configPromoteProtected(toConnId, p, { keys: p.items.map((i) => i.rel), with_removes: false }) : []);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (rel: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(rel)) next.delete(rel);
      else next.add(rel);
      return next;
    });

  const apply = async (comment: string) => {
    if (!plan) return;
    setBusy(true);
    setError(null);
    try {
      // Resume after the batches an earlier run of this plan committed.
      const selection = { keys: [...selected], with_removes: false };
      if (protectedBy.length) {
        setFiled(await api.configPromotePropose(fromConnId, toConnId, plan, selection, comment));
        return;
      }
      const previous = report && report.plan_checksum === plan.checksum ? report : null;
      const rep = await api.configPromoteApply(fromConnId, toConnId, plan, selection, previous, comment, setProgress);
      setReport(rep);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  return {
    fromPrefix,
    setFromPrefix,
    toConnId,
    setToConnId,
    toPrefix,
    setToPrefix,
    plan,
    selected,
    toggle,
    busy,
    error,
    progress,
    report,
    protectedBy,
    filed,
    makePlan,
    apply,
  };
}

export type Promote = ReturnType<typeof usePromote>;
