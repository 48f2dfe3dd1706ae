// Add / edit a connection, in a drawer. Client-side validation (validate.ts)
// runs on blur and on submit; the backend's AppError is shown in conn-form-error.
// State: useConnectionForm (values, validation, save), useThumbprint (vSphere),
// useKubeContexts (Kubernetes); the fields of each kind are in form/.
import type { Connection, Kind } from '../../api/types';
import { KINDS } from '../../api/types';
import { describedBy, Field } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { FormErrorBox } from './form/FormErrorBox';
import { KubernetesFields } from './form/KubernetesFields';
import { PlaintextBox } from './form/PlaintextBox';
import { SecretField } from './form/SecretField';
import { TlsFields } from './form/TlsFields';
import { useConnectionForm } from './form/useConnectionForm';
import { useKubeContexts } from './form/useKubeContexts';
import { useThumbprint } from './form/useThumbprint';
import { VsphereFields } from './form/VsphereFields';
import type { ConnectionForm as FormState } from './validate';

interface Props {
  mode: 'add' | 'edit';
  initial: FormState;
  /** names of the other saved connections (uniqueness) */
  otherNames: string[];
  onSaved: (c: Connection) => void;
  onClose: () => void;
}

export function ConnectionForm({ mode, initial, otherNames, onSaved, onClose }: Props) {
  const t = useT();
  const f = useConnectionForm(initial, otherNames, onSaved);
  const thumb = useThumbprint();
  const kube = useKubeContexts();
  const { form, shown, text, saving, submit } = f;

  return (
    <Modal
      variant="drawer"
      title={mode === 'add' ? t('connections.form.titleAdd') : t('connections.form.titleEdit')}
      onClose={onClose}
      testid="conn-form"
      initialFocus="#conn-name"
      onSubmit={() => void submit()}
      footer={
        <>
          <span class="modal-footer-hint">
            <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
          </span>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" data-testid="conn-save" disabled={saving}>
            {saving && <Spinner size="sm" />}
            {saving ? t('common.saving') : t('common.save')}
          </button>
        </>
      }
    >
      <div
        class="form"
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void submit();
          }
        }}
      >
        <div class="field-row">
          <Field id="conn-name" label={t('connections.form.name')} hint={t('connections.form.nameHint')} error={shown('name')}>
            <input {...text('name')} maxLength={200} />
          </Field>
          <Field id="conn-kind" label={t('connections.form.kind')} class="field-narrow">
            <select
              id="conn-kind"
              data-testid="conn-kind"
              class="input"
              value={form.kind}
              disabled={mode === 'edit'}
              title={mode === 'edit' ? t('connections.form.kindLocked') : undefined}
              aria-describedby={describedBy('conn-kind')}
              onChange={(e) => f.set('kind', e.currentTarget.value as Kind)}
            >
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`kind.${k}`)}
                </option>
              ))}
            </select>
          </Field>
        </div>

        {form.kind === 'vsphere' && <VsphereFields f={f} thumb={thumb} />}

        {form.kind === 'docker' && (
          <>
            <Field id="conn-docker-host" label={t('connections.form.dockerHost')} hint={t('connections.form.dockerHostHint')} error={shown('dockerHost')}>
              <input {...text('dockerHost')} class="input mono" placeholder="unix:///var/run/docker.sock" />
            </Field>
            <TlsFields f={f} hint={t('connections.form.tlsHintDocker')} />
            <PlaintextBox f={f} />
          </>
        )}

        {form.kind === 'kubernetes' && <KubernetesFields f={f} kube={kube} />}

        {form.kind === 'etcd' && (
          <>
            <Field id="conn-etcd-endpoints" label={t('connections.form.endpoints')} hint={t('connections.form.endpointsHint')} error={shown('endpoints')}>
              <textarea {...text('endpoints')} class="input mono" rows={3} placeholder="http://127.0.0.1:2379" />
            </Field>
            <TlsFields f={f} hint={t('connections.form.tlsHintEtcd')} />
            <Field id="conn-username" label={t('connections.form.username')} optional hint={t('connections.form.usernameHintEtcd')} error={shown('username')}>
              <input {...text('username')} placeholder="root" />
            </Field>
            <SecretField f={f} />
            <PlaintextBox f={f} />
          </>
        )}

        <FormErrorBox f={f} />
      </div>
    </Modal>
  );
}
