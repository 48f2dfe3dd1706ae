// The optional TLS files (CA, client certificate and key), folded unless one is set.
import { Field } from '../../../components/Field';
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';
import type { ConnectionFormState } from './useConnectionForm';

export function TlsFields({ f, hint }: { f: ConnectionFormState; hint: string }) {
  const t = useT();
  const { form, shown, text } = f;
  return (
    <details class="form-group" open={Boolean(form.tlsCa || form.tlsCert || form.tlsKey)}>
      <summary class="form-group-title">
        <Icon name="chevronRight" size={14} class="details-chevron" />
        {t('connections.form.tls')} <span class="field-optional">({t('common.optional')})</span>
      </summary>
      <p class="field-hint">{hint}</p>
      <Field id="conn-tls-ca" label={t('connections.form.tlsCa')} error={shown('tlsCa')}>
        <input {...text('tlsCa')} class="input mono" placeholder={t('connections.form.pemPath')} />
      </Field>
      <div class="field-row">
        <Field id="conn-tls-cert" label={t('connections.form.tlsCert')} error={shown('tlsCert')}>
          <input {...text('tlsCert')} class="input mono" placeholder={t('connections.form.pemPath')} />
        </Field>
        <Field id="conn-tls-key" label={t('connections.form.tlsKey')} error={shown('tlsKey')}>
          <input {...text('tlsKey')} class="input mono" placeholder={t('connections.form.pemPath')} />
        </Field>
      </div>
    </details>
  );
}
