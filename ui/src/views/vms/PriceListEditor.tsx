// The price list: per vCPU, GB of memory and GB of disk a month, and disk
// tiers by datastore. Saved in the team store (or this machine's settings),
// guarded by the revision it was read at; the backend refuses a negative,
// non-numeric or absurd price and says which.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { DiskTier, PriceList, StoredPriceList } from '../../api/types';
import { Field } from '../../components/Field';
import { Icon } from '../../components/Icon';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { parsePrice } from './money';

interface TierText {
  name: string;
  price: string;
  datastores: string;
}

export function PriceListEditor({ stored, onSaved }: { stored: StoredPriceList; onSaved: (s: StoredPriceList) => void }) {
  const t = useT();
  const toast = useToast();
  const l = stored.list;
  const [currency, setCurrency] = useState(l.currency);
  const [prices, setPrices] = useState({ vcpu: String(l.vcpu), memory_gb: String(l.memory_gb), disk_gb: String(l.disk_gb) });
  const [tiers, setTiers] = useState<TierText[]>(l.tiers.map((x) => ({ name: x.name, price: String(x.disk_gb), datastores: x.datastores.join(', ') })));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    setError(null);
    const num = (what: string, s: string) => {
      const n = parsePrice(s);
      if (n === null) throw new Error(t('showback.prices.notNumber', { what, value: s }));
      return n;
    };
    let list: PriceList;
    try {
      list = {
        currency: currency.trim(),
        vcpu: num(t('showback.prices.vcpu'), prices.vcpu),
        memory_gb: num(t('showback.prices.memory'), prices.memory_gb),
        disk_gb: num(t('showback.prices.disk'), prices.disk_gb),
        tiers: tiers.map(
          (x): DiskTier => ({
            name: x.name.trim(),
            disk_gb: num(t('showback.prices.tierPrice', { name: x.name }), x.price),
            datastores: x.datastores.split(',').map((d) => d.trim()).filter(Boolean),
          }),
        ),
      };
    } catch (e) {
      setError((e as Error).message);
      return;
    }
    setBusy(true);
    try {
      const saved = await api.vmsSetPriceList(list, stored.revision);
      toast.push({ kind: 'ok', title: t('showback.prices.saved') });
      onSaved(saved);
    } catch (e) {
      setError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const input = (k: keyof typeof prices) => (
    <input
      id={`sb-${k}`}
      class="input"
      inputMode="decimal"
      value={prices[k]}
      onInput={(e) => setPrices((p) => ({ ...p, [k]: e.currentTarget.value }))}
      data-testid={`showback-price-${k}`}
    />
  );
  return (
    <form
      class="sb-editor"
      data-testid="showback-prices"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3>{t('showback.prices.title')}</h3>
      <p class="ov-note">{t(stored.source === 'team' ? 'showback.prices.team' : 'showback.prices.local')}</p>
      {error && (
        <div class="banner banner-error" role="alert" data-testid="showback-prices-error">
          {error}
        </div>
      )}
      <div class="sb-prices">
        <Field id="sb-currency" label={t('showback.prices.currency')}>
          <input id="sb-currency" class="input" value={currency} maxLength={3} onInput={(e) => setCurrency(e.currentTarget.value.toUpperCase())} data-testid="showback-price-currency" />
        </Field>
        <Field id="sb-vcpu" label={t('showback.prices.vcpu')}>
          {input('vcpu')}
        </Field>
        <Field id="sb-memory_gb" label={t('showback.prices.memory')}>
          {input('memory_gb')}
        </Field>
        <Field id="sb-disk_gb" label={t('showback.prices.disk')}>
          {input('disk_gb')}
        </Field>
      </div>
      <div class="sb-tiers">
        {tiers.map((x, i) => (
          <div class="sb-tier" key={i}>
            <input class="input" aria-label={t('showback.prices.tierName')} placeholder={t('showback.prices.tierName')} value={x.name} onInput={(e) => setTiers((ts) => ts.map((y, j) => (j === i ? { ...y, name: e.currentTarget.value } : y)))} />
            <input class="input" aria-label={t('showback.prices.disk')} inputMode="decimal" value={x.price} onInput={(e) => setTiers((ts) => ts.map((y, j) => (j === i ? { ...y, price: e.currentTarget.value } : y)))} />
            <input class="input mono" aria-label={t('showback.prices.datastores')} placeholder="ssd-*, LocalDS_1" value={x.datastores} onInput={(e) => setTiers((ts) => ts.map((y, j) => (j === i ? { ...y, datastores: e.currentTarget.value } : y)))} />
            <button type="button" class="btn btn-sm" aria-label={t('showback.prices.removeTier')} onClick={() => setTiers((ts) => ts.filter((_, j) => j !== i))}>
              <Icon name="trash" size={14} />
            </button>
          </div>
        ))}
      </div>
      <div class="cfg-toolbar">
        <button type="button" class="btn btn-sm" onClick={() => setTiers((ts) => [...ts, { name: '', price: '0', datastores: '' }])}>
          <Icon name="plus" size={14} />
          {t('showback.prices.addTier')}
        </button>
        <span class="toolbar-spacer" />
        <button type="submit" class="btn btn-sm btn-primary" disabled={busy} data-testid="showback-prices-save">
          {t('showback.prices.save')}
        </button>
      </div>
    </form>
  );
}
