// The password (vSphere, etcd) or token (Kubernetes): a saved one is kept
// unless replaced, or cleared with the checkbox. Nothing for kinds without one.
import { Field } from '../../../components/Field';
import { useT } from '../../../i18n';
import { kindHasSecret } from '../validate';
import type { ConnectionFormState } from './useConnectionForm';

export function SecretField({ f }: { f: ConnectionFormState }) {
  const t = useT();
  const { form, shown, text, setForm } = f;
  if (!kindHasSecret(form.kind)) return null;
  const secretLabel = form.kind === 'kubernetes' ? t('connections.form.token') : t('connections.form.password');
  const secretHint = form.hasSecret
    ? t('connections.form.secretKeep')
    : form.kind === 'kubernetes'
      ? t('connections.form.tokenHint')
      : t('connections.form.passwordHint');
  return (
    <>
      <Field id="conn-secret" label={secretLabel} optional={form.kind !== 'vsphere'} hint={secretHint} error={shown('secret')}>
        <input {...text('secret')} type="password" autoComplete="new-password" disabled={form.clearSecret} placeholder={form.hasSecret ? '••••••••' : ''} />
      </Field>
      {form.hasSecret && (
        <label class="check">
          <input
            type="checkbox"
            data-testid="conn-clear-secret"
            checked={form.clearSecret}
            onChange={(e) => {
              const on = e.currentTarget.checked;
              setForm((x) => ({ ...x, clearSecret: on, secret: on ? '' : x.secret }));
            }}
          />
          <span>{t('connections.form.clearSecret')}</span>
        </label>
      )}
    </>
  );
}
