// The request form's cost estimate: the size asked for, priced with the
// price list in force (debounced while typing); the backend keeps the same
// estimate on the request when it is filed.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { CostEstimate, RequestSpec } from '../../api/types';
import { useSettings } from '../../app/store';
import { useT } from '../../i18n';
import { formatMoney } from './money';

export function useEstimate(spec: RequestSpec): { estimate: CostEstimate | null; error: string | null } {
  const [estimate, setEstimate] = useState<CostEstimate | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { cpu, memory_gb, disk_gb } = spec;
  useEffect(() => {
    if (!(cpu > 0 && memory_gb > 0 && disk_gb > 0)) {
      setEstimate(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api.vmsEstimate({ ...spec, cpu, memory_gb, disk_gb }).then(
        (e) => {
          if (!live) return;
          setEstimate(e);
          setError(null);
        },
        (e) => live && setError(toAppError(e).message),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the size is priced
  }, [cpu, memory_gb, disk_gb]);
  return { estimate, error };
}

export function CostEstimateBox({ estimate, error }: { estimate: CostEstimate | null; error: string | null }) {
  const t = useT();
  const { settings } = useSettings();
  if (error)
    return (
      <div class="vm-estimate" data-testid="vm-form-estimate" data-state="error">
        {t('showback.estimate.failed', { message: error })}
      </div>
    );
  if (!estimate) return null;
  const m = (c: number) => formatMoney(c, estimate.currency, settings.language);
  const c = estimate.cost;
  return (
    <div class="vm-estimate" data-testid="vm-form-estimate" data-monthly={c.monthly}>
      <span>{t('showback.estimate.label')}</span>
      <span class="vm-estimate-total" data-testid="vm-form-estimate-total">
        {t('showback.estimate.monthly', { amount: m(c.monthly) })}
      </span>
      <span class="vm-estimate-part">{t('showback.estimate.parts', { vcpu: m(c.vcpu), memory: m(c.memory), disk: m(c.disk) })}</span>
      {c.monthly === 0 && <span class="vm-estimate-note">{t('showback.estimate.noPrices')}</span>}
      {estimate.note && <span class="vm-estimate-note">{t('showback.estimate.tierNote')}</span>}
    </div>
  );
}
