// Adds a registry connection: URL, auth (anonymous / basic / token service),
// user and password (the password goes to the OS keychain), CA file, default
// platform; "Test connection" asks the registry before saving.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError, TestOutcome } from '../../../api/types';
import { Banner } from '../../../components/Banner';
import { ErrorState } from '../../../components/ErrorState';
import { Field } from '../../../components/Field';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { AUTH_KINDS, draftErrors, draftToInput, emptyDraft, type Draft, type DraftField, type RegistryAuthKind, type RegistryConnection } from './model';

interface Props {
  onClose: () => void;
  onSaved: (c: RegistryConnection) => void;
}

export function RegistryDialog({ onClose, onSaved }: Props) {
  const t = useT();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState<'test' | 'save' | null>(null);
  const [test, setTest] = useState<TestOutcome | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const errors = draftErrors(draft);
  const invalid = Object.keys(errors).length > 0;
  const set = (patch: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setTest(null);
  };
  const msg = (f: DraftField) => (touched && errors[f] ? t(`images.registry.invalid.${f}`) : null);

  const run = async (what: 'test' | 'save') => {
    setTouched(true);
    if (invalid) return;
    setBusy(what);
    setError(null);
    try {
      if (what === 'test') {
        setTest(await api.registryTest(draftToInput(draft)));
      } else {
        onSaved(await api.registrySave(draftToInput(draft)));
      }
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(null);
    }
  };

  const text = (field: DraftField, key: keyof Draft, props: { password?: boolean; placeholder?: string; mono?: boolean } = {}) => {
    const common = {
      id: `reg-${field}`,
      class: `input${props.mono ? ' mono' : ''}`,
      value: draft[key],
      placeholder: props.placeholder,
      'aria-invalid': msg(field) ? true : undefined,
      autocomplete: 'off',
      onInput: (e: Event) => set({ [key]: (e.currentTarget as HTMLInputElement).value } as Partial<Draft>),
      'data-testid': `registry-${field}`,
    };
    return props.password ? <input type="password" {...common} /> : <input type="text" {...common} />;
  };

  return (
    <Modal
      title={t('images.registry.dialog.title')}
      onClose={onClose}
      testid="registry-dialog"
      initialFocus="[data-testid=registry-name]"
      onSubmit={() => void run('save')}
      footer={
        <>
          <button type="button" class="btn" onClick={() => void run('test')} disabled={!!busy} data-testid="registry-test">
            {busy === 'test' && <Spinner size="sm" />}
            {busy === 'test' ? t('images.registry.dialog.testing') : t('images.registry.dialog.test')}
          </button>
          <span class="toolbar-spacer" />
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" disabled={!!busy} data-testid="registry-save">
            {busy === 'save' && <Spinner size="sm" />}
            {t('images.registry.dialog.save')}
          </button>
        </>
      }
    >
      <div class="form">
        <Field id="reg-name" label={t('images.registry.dialog.name')} error={msg('name')}>
          {text('name', 'name')}
        </Field>
        <Field id="reg-url" label={t('images.registry.dialog.url')} hint={t('images.registry.dialog.urlHint')} error={msg('url')}>
          {text('url', 'url', { placeholder: 'https://registry.example:5000', mono: true })}
        </Field>
        <Field id="reg-auth" label={t('images.registry.dialog.auth')}>
          <select
            id="reg-auth"
            class="input"
            value={draft.auth}
            onChange={(e) => set({ auth: e.currentTarget.value as RegistryAuthKind })}
            data-testid="registry-auth"
          >
            {AUTH_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`images.registry.dialog.authKind.${k}`)}
              </option>
            ))}
          </select>
        </Field>
        {draft.auth !== 'anonymous' && (
          <>
            <Field id="reg-username" label={t('images.registry.dialog.username')} error={msg('username')}>
              {text('username', 'username')}
            </Field>
            <Field id="reg-password" label={t('images.registry.dialog.password')} hint={t('images.registry.dialog.passwordHint')} error={msg('password')}>
              {text('password', 'password', { password: true })}
            </Field>
          </>
        )}
        <Field id="reg-caFile" label={t('images.registry.dialog.caFile')} hint={t('images.registry.dialog.caHint')} error={msg('caFile')} optional>
          {text('caFile', 'caFile', { placeholder: '/etc/ssl/registry-ca.pem', mono: true })}
        </Field>
        <Field id="reg-platform" label={t('images.registry.dialog.platform')} hint={t('images.registry.dialog.platformHint')} error={msg('platform')} optional>
          {text('platform', 'platform', { placeholder: 'linux/amd64', mono: true })}
        </Field>
      </div>
      {test &&
        (test.ok ? (
          <div data-testid="registry-test-result" data-ok="true">
            <Banner kind="info" title={t('images.registry.dialog.testOk', { ms: test.latency_ms, message: test.message })} />
          </div>
        ) : (
          <div data-testid="registry-test-result" data-ok="false">
            <ErrorState error={{ code: test.error_code ?? 'internal', message: test.message, details: test.details }} />
          </div>
        ))}
      {error && (
        <div data-testid="registry-error">
          <ErrorState error={error} />
        </div>
      )}
    </Modal>
  );
}
