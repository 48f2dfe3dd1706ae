// The vCenter fields: URL, user, password, and the certificate thumbprint to
// pin (typed, or fetched from the server and confirmed by the user).
import { Field } from '../../../components/Field';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { SecretField } from './SecretField';
import type { ConnectionFormState } from './useConnectionForm';
import type { Thumbprint } from './useThumbprint';

export function VsphereFields({ f, thumb }: { f: ConnectionFormState; thumb: Thumbprint }) {
  const t = useT();
  const { shown, text } = f;
  const fetchThumbprint = () => {
    f.touchNow('vsphereUrl');
    void thumb.fetch(f.latest().vsphereUrl.trim());
  };
  return (
    <>
      <Field id="conn-vsphere-url" label={t('connections.form.vsphereUrl')} hint={t('connections.form.vsphereUrlHint')} error={shown('vsphereUrl')}>
        <input {...text('vsphereUrl')} class="input mono" type="url" placeholder="https://vcenter.example.com/sdk" />
      </Field>
      <Field id="conn-username" label={t('connections.form.username')} hint={t('connections.form.usernameHintVsphere')} error={shown('username')}>
        <input {...text('username')} placeholder="administrator@vsphere.local" />
      </Field>
      <SecretField f={f} />
      <Field id="conn-thumbprint" label={t('connections.form.thumbprint')} optional hint={t('connections.form.thumbprintHint')} error={shown('thumbprint')}>
        <div class="input-group">
          <input {...text('thumbprint')} class="input mono" placeholder="AB:CD:EF:…" />
          <button type="button" class="btn" data-testid="conn-fetch-thumbprint" onClick={fetchThumbprint} disabled={thumb.loading}>
            {thumb.loading && <Spinner size="sm" />}
            {t('connections.form.fetchThumbprint')}
          </button>
        </div>
        {thumb.error && (
          <div class="error-inline-text" role="alert">
            {thumb.error.message}
          </div>
        )}
        {thumb.fetched && (
          <div class="confirm-strip thumb-confirm" role="status" data-testid="conn-fetched-thumbprint">
            <span>
              {t('connections.form.fetchedThumbprint')} <code class="mono">{thumb.fetched}</code>
            </span>
            <button
              type="button"
              class="btn btn-sm btn-primary"
              data-testid="conn-confirm-thumbprint"
              onClick={() => {
                f.set('thumbprint', thumb.fetched!);
                thumb.clear();
              }}
            >
              {t('connections.form.confirmThumbprint')}
            </button>
          </div>
        )}
      </Field>
    </>
  );
}
