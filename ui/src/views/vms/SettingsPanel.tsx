// Workspace settings: where requests live (this machine, or the team's
// etcd with its roles), request limits, lifecycle and compliance thresholds.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { VmSettings } from '../../api/types';
import { useConnections } from '../../app/store';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

type NumGroup = 'limits' | 'lifecycle' | 'compliance';

export function SettingsPanel({ onSaved }: { onSaved: () => void }) {
  const t = useT();
  const toast = useToast();
  const { list } = useConnections();
  const etcds = list?.filter((c) => c.spec.kind === 'etcd') ?? [];
  const [s, setS] = useState<VmSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.vmsSettings().then(setS, (e) => setError(toAppError(e).message));
  }, []);
  if (!s) return error ? <div class="banner banner-error">{error}</div> : null;

  const save = async () => {
    try {
      await api.vmsSetSettings(s);
      toast.push({ kind: 'ok', title: t('vms.settings.saved') });
      onSaved();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };
  const num = <G extends NumGroup>(group: G, key: keyof VmSettings[G] & string) => (
    <label class="vm-quota-field" key={`${group}.${key}`}>
      <span>{t(`vms.settings.${group}.${key}`)}</span>
      <input
        class="input input-sm"
        type="number"
        min={0}
        value={String(s[group][key])}
        onInput={(e) => setS({ ...s, [group]: { ...s[group], [key]: Number(e.currentTarget.value) } })}
        data-testid={`vms-setting-${key}`}
      />
    </label>
  );
  const store = s.store;
  return (
    <form class="vm-settings" onSubmit={(e) => (e.preventDefault(), void save())} data-testid="vms-settings">
      <fieldset class="vm-settings-group">
        <legend>{t('vms.settings.store')}</legend>
        <p class="muted">{t('vms.settings.storeHint')}</p>
        <select
          class="input input-sm"
          value={store.kind === 'local' ? 'local' : store.connection_id}
          onChange={(e) => {
            const v = e.currentTarget.value;
            setS({
              ...s,
              store:
                v === 'local'
                  ? { kind: 'local' }
                  : { kind: 'etcd', connection_id: v, prefix: store.kind === 'etcd' ? store.prefix : '/opsdeck/', allow_no_auth: store.kind === 'etcd' && store.allow_no_auth },
            });
          }}
          data-testid="vms-store"
        >
          <option value="local">{t('vms.settings.local')}</option>
          {etcds.map((c) => (
            <option key={c.id} value={c.id}>
              {t('vms.settings.etcd', { name: c.name })}
            </option>
          ))}
        </select>
        {store.kind === 'local' && <p class="banner banner-warn" data-testid="vms-store-personal">{t('vms.settings.personal')}</p>}
        {store.kind === 'etcd' && (
          <>
            <label class="vm-quota-field">
              <span>{t('vms.settings.prefix')}</span>
              <input class="input input-sm mono" value={store.prefix} onInput={(e) => setS({ ...s, store: { ...store, prefix: e.currentTarget.value } })} data-testid="vms-store-prefix" />
            </label>
            <label class="vm-check">
              <input type="checkbox" checked={store.allow_no_auth} onChange={(e) => setS({ ...s, store: { ...store, allow_no_auth: e.currentTarget.checked } })} data-testid="vms-store-allow-no-auth" />
              <span>{t('vms.settings.allowNoAuth')}</span>
            </label>
            {store.allow_no_auth && (
              <p class="banner banner-error" role="alert" data-testid="vms-store-no-auth">
                {t('vms.settings.noAuthWarning')}
              </p>
            )}
          </>
        )}
      </fieldset>
      <fieldset class="vm-settings-group">
        <legend>{t('vms.settings.limitsTitle')}</legend>
        {num('limits', 'max_cpu')}
        {num('limits', 'max_memory_gb')}
        {num('limits', 'max_disk_gb')}
        {num('limits', 'max_lease_days')}
      </fieldset>
      <fieldset class="vm-settings-group">
        <legend>{t('vms.settings.lifecycleTitle')}</legend>
        {num('lifecycle', 'retention_days')}
        {num('lifecycle', 'warn_days')}
        {num('lifecycle', 'grace_days')}
      </fieldset>
      <fieldset class="vm-settings-group">
        <legend>{t('vms.settings.complianceTitle')}</legend>
        {num('compliance', 'max_snapshots')}
        {num('compliance', 'max_snapshot_age_days')}
        {num('compliance', 'max_powered_off_days')}
      </fieldset>
      <div class="vm-actions">
        <button type="submit" class="btn btn-primary btn-sm" data-testid="vms-settings-save">
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}
