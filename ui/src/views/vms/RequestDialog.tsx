// The VM request form: every field validated as you type (the backend checks
// again, against vCenter and the quotas), choices filled from the inventory.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { Inventory, RequestSpec, VmRequest } from '../../api/types';
import { describedBy, Field } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { useT } from '../../i18n';
import { CostEstimateBox, useEstimate } from './CostEstimate';
import { isoDay, validateForm, type FormErrors } from './model';

interface Props {
  connId: string;
  inventory: Inventory | null;
  onClose: () => void;
  onFiled: (r: VmRequest) => void;
  /** Edit this request (its requester only; the name stays) instead of filing a new one. */
  editing?: VmRequest | null;
}

function defaults(inv: Inventory | null): RequestSpec {
  const lease = new Date(Date.now() + 30 * 86_400_000);
  return {
    name: '',
    template: inv?.vms.find((v) => v.template)?.name ?? '',
    cpu: 2,
    memory_gb: 4,
    disk_gb: 40,
    network: '',
    folder: '',
    resource_pool: '',
    department: '',
    purpose: '',
    lease_end: isoDay(lease),
    snapshot_schedule: 'none',
    customization_script: '',
  };
}

export function RequestDialog({ connId, inventory, onClose, onFiled, editing }: Props) {
  const t = useT();
  const [spec, setSpec] = useState<RequestSpec>(() => (editing ? { ...editing.spec } : defaults(inventory)));
  const [touched, setTouched] = useState<Set<keyof RequestSpec>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const errors: FormErrors = validateForm(spec, isoDay(new Date()));
  const estimate = useEstimate(spec);
  const shown = (k: keyof RequestSpec) => (submitted || touched.has(k)) && errors[k] ? t(errors[k]!) : null;
  const set = <K extends keyof RequestSpec>(k: K, v: RequestSpec[K]) => {
    setSpec((s) => ({ ...s, [k]: v }));
    setTouched((s) => new Set(s).add(k));
  };
  const text = (k: keyof RequestSpec) => ({
    id: `vm-${k}`,
    class: 'input',
    value: String(spec[k]),
    'aria-invalid': shown(k) ? true : undefined,
    'aria-describedby': describedBy(`vm-${k}`),
    onInput: (e: Event) => set(k, (e.currentTarget as HTMLInputElement).value as never),
    'data-testid': `vm-form-${k}`,
  });
  /** An optional choice among inventory objects (empty = what `none` says). */
  const pick = <T extends { id: string; name: string }>(k: 'network' | 'folder' | 'resource_pool', none: string, items: T[] | undefined, value: (x: T) => string, label: (x: T) => string) => (
    <select {...text(k)} onChange={(e) => set(k, e.currentTarget.value)}>
      <option value="">{none}</option>
      {items?.map((x) => (
        <option key={x.id} value={value(x)}>
          {label(x)}
        </option>
      ))}
    </select>
  );
  const num = (k: 'cpu' | 'memory_gb' | 'disk_gb') => ({
    ...text(k),
    type: 'number' as const,
    min: 1,
    onInput: (e: Event) => set(k, Number((e.currentTarget as HTMLInputElement).value)),
  });

  const submit = async () => {
    setSubmitted(true);
    setServerError(null);
    if (Object.keys(errors).length > 0) return;
    setBusy(true);
    try {
      const clean = { ...spec, name: spec.name.trim(), department: spec.department.trim() };
      onFiled(await (editing ? api.vmsEdit(connId, editing.id, clean) : api.vmsSubmit(connId, clean)));
    } catch (e) {
      setServerError(toAppError(e).message);
    } finally {
      setBusy(false);
    }
  };

  const templates = inventory?.vms.filter((v) => v.template) ?? [];
  return (
    <Modal
      title={editing ? t('vms.form.editTitle', { name: editing.spec.name }) : t('vms.form.title')}
      onClose={onClose}
      onSubmit={() => void submit()}
      size="lg"
      testid="vm-request-dialog"
      initialFocus="#vm-name"
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="vm-form-submit">
            {busy ? t('vms.form.submitting') : t('vms.form.submit')}
          </button>
        </>
      }
    >
      {serverError && (
        <div class="banner banner-error" role="alert" data-testid="vm-form-error">
          {serverError}
        </div>
      )}
      <div class="vm-form-grid">
        <Field id="vm-name" label={t('vms.form.name')} hint={t('vms.form.nameHint')} error={shown('name')}>
          <input {...text('name')} autocomplete="off" spellcheck={false} disabled={Boolean(editing)} />
        </Field>
        <Field id="vm-template" label={t('vms.form.template')} error={shown('template')}>
          <select {...text('template')} onChange={(e) => set('template', e.currentTarget.value)}>
            {templates.length === 0 && <option value="">{t('vms.form.noTemplates')}</option>}
            {templates.map((v) => (
              <option key={v.id} value={v.name}>
                {v.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="vm-cpu" label={t('vms.form.cpu')} error={shown('cpu')}>
          <input {...num('cpu')} />
        </Field>
        <Field id="vm-memory_gb" label={t('vms.form.memory')} error={shown('memory_gb')}>
          <input {...num('memory_gb')} />
        </Field>
        <Field id="vm-disk_gb" label={t('vms.form.disk')} error={shown('disk_gb')}>
          <input {...num('disk_gb')} />
        </Field>
        <Field id="vm-network" label={t('vms.form.network')} optional>
          {pick('network', t('vms.form.fromTemplate'), inventory?.networks, (n) => n.name, (n) => n.name)}
        </Field>
        <Field id="vm-folder" label={t('vms.form.folder')} optional>
          {pick('folder', t('vms.form.fromTemplate'), inventory?.folders, (f) => f.id, (f) => f.name)}
        </Field>
        <Field id="vm-resource_pool" label={t('vms.form.pool')} optional>
          {pick('resource_pool', t('vms.form.poolAuto'), inventory?.pools, (p) => p.id, (p) => `${p.name} (${p.id})`)}
        </Field>
        <Field id="vm-department" label={t('vms.form.department')} hint={t('vms.form.departmentHint')} error={shown('department')}>
          <input {...text('department')} autocomplete="off" />
        </Field>
        <Field id="vm-lease_end" label={t('vms.form.lease')} error={shown('lease_end')}>
          <input {...text('lease_end')} type="date" />
        </Field>
        <Field id="vm-snapshot_schedule" label={t('vms.form.snapshots')}>
          <select {...text('snapshot_schedule')} onChange={(e) => set('snapshot_schedule', e.currentTarget.value as RequestSpec['snapshot_schedule'])}>
            {(['none', 'daily', 'weekly'] as const).map((s) => (
              <option key={s} value={s}>
                {t(`vms.schedule.${s}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="vm-purpose" label={t('vms.form.purpose')} error={shown('purpose')} class="vm-form-wide">
          <input {...text('purpose')} />
        </Field>
        <Field id="vm-customization_script" label={t('vms.form.script')} optional class="vm-form-wide">
          <textarea {...text('customization_script')} class="input mono" rows={4} spellcheck={false} />
        </Field>
      </div>
      <CostEstimateBox {...estimate} />
    </Modal>
  );
}
