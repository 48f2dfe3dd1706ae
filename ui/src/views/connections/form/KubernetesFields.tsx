// The Kubernetes fields: the kubeconfig path, its contexts (read from the file
// on demand, or the ones saved) to check, and the optional token.
import { Field } from '../../../components/Field';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import type { KubeContexts } from './useKubeContexts';
import { SecretField } from './SecretField';
import type { ConnectionFormState } from './useConnectionForm';

export function KubernetesFields({ f, kube }: { f: ConnectionFormState; kube: KubeContexts }) {
  const t = useT();
  const { form, shown, text } = f;
  const { contexts } = kube;
  const available = contexts ? [...new Set([...contexts, ...form.contexts])] : form.contexts;
  const loadContexts = () => {
    f.touchNow('kubeconfig');
    void kube.load(f.latest().kubeconfig.trim());
  };
  const toggleContext = (name: string, on: boolean) =>
    f.setForm((x) => ({ ...x, contexts: on ? [...x.contexts, name] : x.contexts.filter((c) => c !== name) }));
  return (
    <>
      <Field id="conn-kubeconfig" label={t('connections.form.kubeconfig')} hint={t('connections.form.kubeconfigHint')} error={shown('kubeconfig')}>
        <div class="input-group">
          <input {...text('kubeconfig')} class="input mono" placeholder="~/.kube/config" />
          <button type="button" class="btn" data-testid="conn-load-contexts" onClick={loadContexts} disabled={kube.loading}>
            {kube.loading && <Spinner size="sm" />}
            {kube.loading ? t('connections.form.loadingContexts') : t('connections.form.loadContexts')}
          </button>
        </div>
      </Field>
      <fieldset class="form-group" id="conn-contexts" data-testid="conn-contexts">
        <legend class="form-group-title">{t('connections.form.contexts')}</legend>
        {kube.error && (
          <div class="error-inline-text" role="alert">
            {kube.error.message}
          </div>
        )}
        {available.length > 0 ? (
          <div class="check-list">
            {available.map((name) => (
              <label class="check" key={name}>
                <input type="checkbox" value={name} checked={form.contexts.includes(name)} onChange={(e) => toggleContext(name, e.currentTarget.checked)} />
                <span class="mono">{name}</span>
              </label>
            ))}
          </div>
        ) : (
          <p class="field-hint">{contexts ? t('connections.form.noContexts') : t('connections.form.contextsNotLoaded')}</p>
        )}
        {available.length > 0 && <p class="field-hint">{t('connections.form.contextsHint')}</p>}
      </fieldset>
      <SecretField f={f} />
    </>
  );
}
