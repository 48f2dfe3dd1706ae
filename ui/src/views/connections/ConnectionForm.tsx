// Add / edit a connection, in a drawer. Client-side validation (validate.ts)
// runs on blur and on submit; the backend's AppError is shown in conn-form-error.
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import { KINDS, type AppError, type Connection, type Kind } from '../../api/types';
import { describedBy, Field } from '../../components/Field';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useT, type TFn } from '../../i18n';
import {
  kindHasSecret,
  plaintextRisk,
  toInput,
  validateForm,
  type ConnectionForm as FormState,
  type FieldName,
  type Problem,
} from './validate';

interface Props {
  mode: 'add' | 'edit';
  initial: FormState;
  /** names of the other saved connections (uniqueness) */
  otherNames: string[];
  onSaved: (c: Connection) => void;
  onClose: () => void;
}

const FIELD_ORDER: FieldName[] = [
  'name',
  'kind',
  'vsphereUrl',
  'dockerHost',
  'kubeconfig',
  'contexts',
  'endpoints',
  'username',
  'secret',
  'thumbprint',
  'tlsCa',
  'tlsCert',
  'tlsKey',
];

const FIELD_IDS: Record<FieldName, string> = {
  name: 'conn-name',
  kind: 'conn-kind',
  vsphereUrl: 'conn-vsphere-url',
  username: 'conn-username',
  thumbprint: 'conn-thumbprint',
  dockerHost: 'conn-docker-host',
  tlsCa: 'conn-tls-ca',
  tlsCert: 'conn-tls-cert',
  tlsKey: 'conn-tls-key',
  kubeconfig: 'conn-kubeconfig',
  contexts: 'conn-contexts',
  endpoints: 'conn-etcd-endpoints',
  secret: 'conn-secret',
};

const msg = (t: TFn, p: Problem | undefined) => (p ? t(p.key, p.params) : null);

export function ConnectionForm({ mode, initial, otherNames, onSaved, onClose }: Props) {
  const t = useT();
  const [form, setFormState] = useState<FormState>(initial);
  // The latest values, also between an input event and the re-render it causes
  // (fast automation can type and click "Save" within one task).
  const latestRef = useRef<FormState>(initial);
  const setForm = (next: (f: FormState) => FormState) => {
    latestRef.current = next(latestRef.current);
    setFormState(latestRef.current);
  };
  const [touched, setTouched] = useState<Set<FieldName>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<AppError | null>(null);

  const [contexts, setContexts] = useState<string[] | null>(null);
  const [contextsLoading, setContextsLoading] = useState(false);
  const [contextsError, setContextsError] = useState<AppError | null>(null);

  const errors = useMemo(() => validateForm(form, otherNames), [form, otherNames]);
  const shown = (f: FieldName) => (submitted || touched.has(f) ? msg(t, errors[f]) : null);

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setServerError(null);
  };
  const touch = (f: FieldName) => () => setTouched((s) => (s.has(f) ? s : new Set(s).add(f)));

  /** Props shared by the text inputs: id/testid, value, change, blur, a11y. */
  const text = (f: FieldName & keyof FormState) => ({
    id: FIELD_IDS[f],
    'data-testid': FIELD_IDS[f],
    value: form[f] as string,
    // eslint-disable-next-line react-hooks/refs -- set() reads the ref when the input fires, not during render
    onInput: (e: Event) => set(f, (e.currentTarget as HTMLInputElement).value as never),
    onBlur: touch(f),
    'aria-invalid': shown(f) ? ('true' as const) : undefined,
    'aria-describedby': describedBy(FIELD_IDS[f]),
    class: 'input',
    autoComplete: 'off',
    spellcheck: false,
  });

  const firstError = FIELD_ORDER.find((f) => errors[f]);

  const submit = async () => {
    setSubmitted(true);
    setServerError(null);
    const current = latestRef.current;
    const problems = validateForm(current, otherNames);
    const first = FIELD_ORDER.find((f) => problems[f]);
    if (first) {
      document.getElementById(FIELD_IDS[first])?.focus();
      return;
    }
    setSaving(true);
    try {
      onSaved(await api.connectionSave(toInput(current)));
    } catch (e) {
      setServerError(toAppError(e));
    } finally {
      setSaving(false);
    }
  };

  const [thumbLoading, setThumbLoading] = useState(false);
  const [thumbError, setThumbError] = useState<AppError | null>(null);
  /** A fetched thumbprint waiting for the user to compare it and confirm it is pinned. */
  const [fetchedThumb, setFetchedThumb] = useState<string | null>(null);
  /** Asks the server for its certificate thumbprint (no credentials sent) for the user to compare and pin. */
  const fetchThumbprint = async () => {
    setTouched((s) => new Set(s).add('vsphereUrl'));
    const url = latestRef.current.vsphereUrl.trim();
    if (!url) return;
    setThumbLoading(true);
    setThumbError(null);
    try {
      setFetchedThumb(await api.vsphereThumbprint(url));
    } catch (e) {
      setThumbError(toAppError(e));
    } finally {
      setThumbLoading(false);
    }
  };

  const loadContexts = async () => {
    setTouched((s) => new Set(s).add('kubeconfig'));
    const path = latestRef.current.kubeconfig.trim();
    if (!path) return;
    setContextsLoading(true);
    setContextsError(null);
    try {
      setContexts(await api.kubeContexts(path));
    } catch (e) {
      setContextsError(toAppError(e));
    } finally {
      setContextsLoading(false);
    }
  };

  const toggleContext = (name: string, on: boolean) =>
    setForm((f) => ({ ...f, contexts: on ? [...f.contexts, name] : f.contexts.filter((c) => c !== name) }));

  const tlsFields = (hint: string) => (
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

  const secretLabel =
    form.kind === 'kubernetes' ? t('connections.form.token') : t('connections.form.password');
  const secretHint = form.hasSecret
    ? t('connections.form.secretKeep')
    : form.kind === 'kubernetes'
      ? t('connections.form.tokenHint')
      : t('connections.form.passwordHint');

  const secretField = kindHasSecret(form.kind) && (
    <>
      <Field
        id="conn-secret"
        label={secretLabel}
        optional={form.kind !== 'vsphere'}
        hint={secretHint}
        error={shown('secret')}
      >
        <input
          {...text('secret')}
          type="password"
          autoComplete="new-password"
          disabled={form.clearSecret}
          placeholder={form.hasSecret ? '••••••••' : ''}
        />
      </Field>
      {form.hasSecret && (
        <label class="check">
          <input
            type="checkbox"
            data-testid="conn-clear-secret"
            checked={form.clearSecret}
            onChange={(e) => {
              const on = e.currentTarget.checked;
              setForm((f) => ({ ...f, clearSecret: on, secret: on ? '' : f.secret }));
            }}
          />
          <span>{t('connections.form.clearSecret')}</span>
        </label>
      )}
    </>
  );

  const available = contexts ? [...new Set([...contexts, ...form.contexts])] : form.contexts;

  const errorBox = serverError ? (
    <div class="form-error" role="alert" data-testid="conn-form-error">
      <Icon name="alert" class="form-error-icon" />
      <div>
        {serverError.message} <code class="error-code">{serverError.code}</code>
      </div>
    </div>
  ) : submitted && firstError ? (
    <div class="form-error" role="alert" data-testid="conn-form-error">
      <Icon name="alert" class="form-error-icon" />
      <div>{t('connections.form.checkFields', { first: msg(t, errors[firstError]) ?? '' })}</div>
    </div>
  ) : null;

  // Clear text to another machine (an etcd password, the Docker API) only
  // when the user says so, with the risk in red.
  const plaintextBox = plaintextRisk(form) && (
    <div class="field">
      <label class="vm-check">
        <input type="checkbox" checked={form.allowPlaintext} onChange={(e) => set('allowPlaintext', e.currentTarget.checked)} data-testid="conn-allow-plaintext" />
        <span>{t('connections.form.allowPlaintext')}</span>
      </label>
      <p class="banner banner-error" role="alert">
        {t(form.kind === 'docker' ? 'connections.form.plaintextDocker' : 'connections.form.plaintextEtcd')}
      </p>
    </div>
  );

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
          <Field
            id="conn-kind"
            label={t('connections.form.kind')}
            class="field-narrow"
          >
            <select
              id="conn-kind"
              data-testid="conn-kind"
              class="input"
              value={form.kind}
              disabled={mode === 'edit'}
              title={mode === 'edit' ? t('connections.form.kindLocked') : undefined}
              aria-describedby={describedBy('conn-kind')}
              onChange={(e) => set('kind', e.currentTarget.value as Kind)}
            >
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`kind.${k}`)}
                </option>
              ))}
            </select>
          </Field>
        </div>

        {form.kind === 'vsphere' && (
          <>
            <Field id="conn-vsphere-url" label={t('connections.form.vsphereUrl')} hint={t('connections.form.vsphereUrlHint')} error={shown('vsphereUrl')}>
              <input {...text('vsphereUrl')} class="input mono" type="url" placeholder="https://vcenter.example.com/sdk" />
            </Field>
            <Field id="conn-username" label={t('connections.form.username')} hint={t('connections.form.usernameHintVsphere')} error={shown('username')}>
              <input {...text('username')} placeholder="administrator@vsphere.local" />
            </Field>
            {secretField}
            <Field
              id="conn-thumbprint"
              label={t('connections.form.thumbprint')}
              optional
              hint={t('connections.form.thumbprintHint')}
              error={shown('thumbprint')}
            >
              <div class="input-group">
                <input {...text('thumbprint')} class="input mono" placeholder="AB:CD:EF:…" />
                <button
                  type="button"
                  class="btn"
                  data-testid="conn-fetch-thumbprint"
                  onClick={() => void fetchThumbprint()}
                  disabled={thumbLoading}
                >
                  {thumbLoading && <Spinner size="sm" />}
                  {t('connections.form.fetchThumbprint')}
                </button>
              </div>
              {thumbError && (
                <div class="error-inline-text" role="alert">
                  {thumbError.message}
                </div>
              )}
              {fetchedThumb && (
                <div class="confirm-strip thumb-confirm" role="status" data-testid="conn-fetched-thumbprint">
                  <span>
                    {t('connections.form.fetchedThumbprint')} <code class="mono">{fetchedThumb}</code>
                  </span>
                  <button
                    type="button"
                    class="btn btn-sm btn-primary"
                    data-testid="conn-confirm-thumbprint"
                    onClick={() => {
                      set('thumbprint', fetchedThumb);
                      setFetchedThumb(null);
                    }}
                  >
                    {t('connections.form.confirmThumbprint')}
                  </button>
                </div>
              )}
            </Field>
          </>
        )}

        {form.kind === 'docker' && (
          <>
            <Field id="conn-docker-host" label={t('connections.form.dockerHost')} hint={t('connections.form.dockerHostHint')} error={shown('dockerHost')}>
              <input {...text('dockerHost')} class="input mono" placeholder="unix:///var/run/docker.sock" />
            </Field>
            {tlsFields(t('connections.form.tlsHintDocker'))}
            {plaintextBox}
          </>
        )}

        {form.kind === 'kubernetes' && (
          <>
            <Field id="conn-kubeconfig" label={t('connections.form.kubeconfig')} hint={t('connections.form.kubeconfigHint')} error={shown('kubeconfig')}>
              <div class="input-group">
                <input {...text('kubeconfig')} class="input mono" placeholder="~/.kube/config" />
                <button
                  type="button"
                  class="btn"
                  data-testid="conn-load-contexts"
                  onClick={() => void loadContexts()}
                  disabled={contextsLoading}
                >
                  {contextsLoading && <Spinner size="sm" />}
                  {contextsLoading ? t('connections.form.loadingContexts') : t('connections.form.loadContexts')}
                </button>
              </div>
            </Field>
            <fieldset class="form-group" id="conn-contexts" data-testid="conn-contexts">
              <legend class="form-group-title">{t('connections.form.contexts')}</legend>
              {contextsError && (
                <div class="error-inline-text" role="alert">
                  {contextsError.message}
                </div>
              )}
              {available.length > 0 ? (
                <div class="check-list">
                  {available.map((name) => (
                    <label class="check" key={name}>
                      <input
                        type="checkbox"
                        value={name}
                        checked={form.contexts.includes(name)}
                        onChange={(e) => toggleContext(name, e.currentTarget.checked)}
                      />
                      <span class="mono">{name}</span>
                    </label>
                  ))}
                </div>
              ) : (
                <p class="field-hint">
                  {contexts ? t('connections.form.noContexts') : t('connections.form.contextsNotLoaded')}
                </p>
              )}
              {available.length > 0 && <p class="field-hint">{t('connections.form.contextsHint')}</p>}
            </fieldset>
            {secretField}
          </>
        )}

        {form.kind === 'etcd' && (
          <>
            <Field id="conn-etcd-endpoints" label={t('connections.form.endpoints')} hint={t('connections.form.endpointsHint')} error={shown('endpoints')}>
              <textarea {...text('endpoints')} class="input mono" rows={3} placeholder="http://127.0.0.1:2379" />
            </Field>
            {tlsFields(t('connections.form.tlsHintEtcd'))}
            <Field id="conn-username" label={t('connections.form.username')} optional hint={t('connections.form.usernameHintEtcd')} error={shown('username')}>
              <input {...text('username')} placeholder="root" />
            </Field>
            {secretField}
            {plaintextBox}
          </>
        )}

        {errorBox}
      </div>
    </Modal>
  );
}
