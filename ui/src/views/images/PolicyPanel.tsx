// The image policy (the seed's rules), editable; saving re-assesses every
// scanned image from the cache.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';
import type { Policy } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { parseLabels } from './model';

export function PolicyPanel({ onSaved }: { onSaved: () => void }) {
  const t = useT();
  const toast = useToast();
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [labels, setLabels] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  const [saving, setSaving] = useState(false);

  const load = () =>
    api.imagesPolicy().then(
      (p) => {
        setPolicy(p);
        setLabels(p.required_labels.join(', '));
        setError(null);
      },
      (e) => setError(toAppError(e)),
    );
  useEffect(() => void load(), []);

  if (error && !policy) return <ErrorState error={error} onRetry={() => void load()} />;
  if (!policy) return <Spinner size="md" label={t('common.loading')} />;

  const set = (patch: Partial<Policy>) => setPolicy({ ...policy, ...patch });
  const th = policy.thresholds;
  const valid = th.medium >= 1 && th.medium <= th.high && th.high <= th.critical;

  const save = async () => {
    setSaving(true);
    try {
      const r = await api.imagesSetPolicy({ ...policy, required_labels: parseLabels(labels) });
      toast.push({ kind: 'ok', title: t('images.policy.saved', { count: r.images }) });
      setError(null);
      onSaved();
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setSaving(false);
    }
  };

  const check = (key: 'no_critical' | 'require_healthcheck' | 'forbid_root', name: string) => (
    <label class="check" key={key}>
      <input type="checkbox" checked={policy[key]} onChange={(e) => set({ [key]: e.currentTarget.checked })} data-testid={`policy-${key}`} />
      <span>{t(`images.policy.name.${name}`)}</span>
    </label>
  );
  const threshold = (key: 'critical' | 'high' | 'medium') => (
    <label class="field field-inline" key={key}>
      <span class="field-label">{t(`images.policy.threshold.${key}`)}</span>
      <input
        type="number"
        class="input input-sm img-num"
        min={1}
        value={th[key]}
        onInput={(e) => set({ thresholds: { ...th, [key]: Number(e.currentTarget.value) || 0 } })}
        data-testid={`policy-threshold-${key}`}
      />
    </label>
  );

  return (
    <form
      class="img-policy"
      data-testid="policy-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <p class="muted">{t('images.policy.intro')}</p>
      <fieldset>
        <legend>{t('images.policy.rules')}</legend>
        {check('no_critical', 'no-critical-vulnerabilities')}
        {check('require_healthcheck', 'require-healthcheck')}
        {check('forbid_root', 'no-root-user')}
        <label class="field">
          <span class="field-label">{t('images.policy.name.require-labels')}</span>
          <input class="input" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} placeholder="version, maintainer, description" data-testid="policy-labels" />
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('images.policy.levels')}</legend>
        <p class="muted">{t('images.policy.levelsHint')}</p>
        {threshold('critical')}
        {threshold('high')}
        {threshold('medium')}
        {!valid && <p class="error-inline-text">{t('images.policy.thresholdOrder')}</p>}
      </fieldset>
      <fieldset>
        <legend>{t('images.policy.notAssessed')}</legend>
        <label class="check">
          <input
            type="checkbox"
            checked={policy.block_not_assessed}
            onChange={(e) => set({ block_not_assessed: e.currentTarget.checked })}
            data-testid="policy-block_not_assessed"
          />
          <span>{t('images.policy.blockNotAssessed')}</span>
        </label>
        <label class="field field-inline">
          <span class="field-label">{t('images.policy.maxAge')}</span>
          <input
            type="number"
            class="input input-sm img-num"
            min={1}
            value={policy.max_advisory_age_days ?? ''}
            onInput={(e) => {
              const days = Number(e.currentTarget.value);
              set({ max_advisory_age_days: e.currentTarget.value.trim() === '' || !(days >= 1) ? null : Math.floor(days) });
            }}
            data-testid="policy-max-advisory-age"
          />
        </label>
      </fieldset>
      {error && <ErrorState error={error} inline />}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={!valid || saving} data-testid="policy-save">
          {saving && <Spinner size="sm" />}
          {t('images.policy.save')}
        </button>
      </div>
    </form>
  );
}
