// Notification channels: the list (test, remove) and a form for a new one —
// an SMTP server (host, port, STARTTLS, user; the password goes to the
// keychain, never back to the page) or a webhook (URL and payload kind).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, NotifyChannel, NotifyChannelSpec_Deserialize, WebhookFormat } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Field } from '../../components/Field';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useT, type TFn } from '../../i18n';

interface Form {
  kind: 'smtp' | 'webhook';
  name: string;
  host: string;
  port: string;
  starttls: boolean;
  user: string;
  password: string;
  from: string;
  url: string;
  format: WebhookFormat;
}

const EMPTY: Form = { kind: 'smtp', name: '', host: '', port: '587', starttls: true, user: '', password: '', from: '', url: '', format: 'slack' };

function spec(f: Form): NotifyChannelSpec_Deserialize {
  return f.kind === 'smtp'
    ? { kind: 'smtp', host: f.host.trim(), port: Number(f.port), starttls: f.starttls, username: f.user.trim() || null, from: f.from.trim(), ca_file: null, timeout_secs: 15 }
    : { kind: 'webhook', url: f.url.trim(), format: f.format, ca_file: null, timeout_secs: 15 };
}

function target(c: NotifyChannel): string {
  if (c.spec.kind === 'smtp') return `${c.spec.username ? `${c.spec.username}@` : ''}${c.spec.host}:${c.spec.port}${c.spec.starttls ? ' (STARTTLS)' : ''}`;
  try {
    const u = new URL(c.spec.url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return c.spec.url;
  }
}

function columns(t: TFn, test: (c: NotifyChannel) => void, remove: (c: NotifyChannel) => void): Column<NotifyChannel>[] {
  return [
    { id: 'name', header: t('notify.ch.name'), cell: (c) => c.name, sortValue: (c) => c.name, filterValue: (c) => c.name, class: 'col-name' },
    { id: 'kind', header: t('notify.ch.kind'), cell: (c) => (c.spec.kind === 'smtp' ? t('notify.ch.smtp') : t(`notify.ch.format.${c.spec.format}`)), class: 'col-notify-kind' },
    { id: 'target', header: t('notify.ch.target'), cell: (c) => <span class="mono truncate">{target(c)}</span> },
    { id: 'password', header: t('notify.ch.password'), cell: (c) => (c.has_password ? t('notify.ch.inKeychain') : '—'), class: 'col-notify-kind' },
    {
      id: 'actions',
      header: '',
      class: 'col-notify-actions',
      cell: (c) => (
        <div class="row-actions">
          <button type="button" class="btn btn-sm" data-testid="notify-test" onClick={() => test(c)}>
            {t('notify.ch.test')}
          </button>
          <button type="button" class="btn btn-sm" data-testid="notify-remove" onClick={() => remove(c)}>
            {t('notify.ch.remove')}
          </button>
        </div>
      ),
    },
  ];
}

export function ChannelsPanel() {
  const t = useT();
  const toast = useToast();
  const [channels, setChannels] = useState<NotifyChannel[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [form, setForm] = useState<Form>(EMPTY);
  const [saveError, setSaveError] = useState<AppError | null>(null);
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    try {
      setChannels((await api.notifySettings()).channels);
      setError(null);
    } catch (e) {
      setError(toAppError(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));

  const save = async () => {
    setSaving(true);
    try {
      const password = form.kind === 'smtp' && form.user.trim() && form.password ? form.password : null;
      await api.notifySaveChannel({ id: null, name: form.name, spec: spec(form), password, clear_password: false });
      setForm(EMPTY);
      setSaveError(null);
      toast.push({ kind: 'ok', title: t('notify.ch.saved') });
      await load();
    } catch (e) {
      setSaveError(toAppError(e));
    } finally {
      setSaving(false);
    }
  };

  const test = async (c: NotifyChannel) => {
    const to = c.spec.kind === 'smtp' ? window.prompt(t('notify.ch.testTo')) : null;
    if (c.spec.kind === 'smtp' && !to) return;
    try {
      await api.notifyTest(c.id, to);
      toast.push({ kind: 'ok', title: t('notify.ch.testSent', { name: c.name }) });
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  const remove = async (c: NotifyChannel) => {
    if (!window.confirm(t('notify.ch.confirmRemove', { name: c.name }))) return;
    try {
      await api.notifyDeleteChannel(c.id);
      await load();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    }
  };

  return (
    <div class="notify-channels">
      <DataTable
        label={t('notify.channels')}
        testid="notify-channels"
        columns={columns(t, (c) => void test(c), (c) => void remove(c))}
        rows={channels}
        rowKey={(c) => c.id}
        error={error}
        onRetry={() => void load()}
        empty={<EmptyState icon="plug" title={t('notify.ch.emptyTitle')} compact />}
      />
      <section class="card" data-testid="notify-channel-form">
        <h2 class="card-title">{t('notify.ch.add')}</h2>
        <form
          class="card-body form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div class="field-row">
            <Field id="nc-name" label={t('notify.ch.name')}>
              <input id="nc-name" class="input" value={form.name} maxLength={100} onInput={(e) => set('name', e.currentTarget.value)} />
            </Field>
            <Field id="nc-kind" label={t('notify.ch.kind')} class="field-narrow">
              <select id="nc-kind" class="input" data-testid="nc-kind" value={form.kind} onChange={(e) => set('kind', e.currentTarget.value as Form['kind'])}>
                <option value="smtp">{t('notify.ch.smtp')}</option>
                <option value="webhook">{t('notify.ch.webhook')}</option>
              </select>
            </Field>
          </div>
          {form.kind === 'smtp' ? (
            <>
              <div class="field-row">
                <Field id="nc-host" label={t('notify.ch.host')}>
                  <input id="nc-host" class="input" value={form.host} onInput={(e) => set('host', e.currentTarget.value)} />
                </Field>
                <Field id="nc-port" label={t('notify.ch.port')} class="field-narrow">
                  <input id="nc-port" class="input" inputMode="numeric" value={form.port} onInput={(e) => set('port', e.currentTarget.value)} />
                </Field>
              </div>
              <label class="checkbox">
                <input type="checkbox" checked={form.starttls} onChange={(e) => set('starttls', e.currentTarget.checked)} /> {t('notify.ch.starttls')}
              </label>
              <div class="field-row">
                <Field id="nc-user" label={t('notify.ch.user')} optional>
                  <input id="nc-user" class="input" autoComplete="off" value={form.user} onInput={(e) => set('user', e.currentTarget.value)} />
                </Field>
                <Field id="nc-password" label={t('notify.ch.passwordField')} hint={t('notify.ch.passwordHint')} optional>
                  <input id="nc-password" class="input" type="password" autoComplete="new-password" value={form.password} onInput={(e) => set('password', e.currentTarget.value)} />
                </Field>
              </div>
              <Field id="nc-from" label={t('notify.ch.from')} hint={t('notify.ch.fromHint')}>
                <input id="nc-from" class="input" value={form.from} onInput={(e) => set('from', e.currentTarget.value)} />
              </Field>
            </>
          ) : (
            <div class="field-row">
              <Field id="nc-url" label={t('notify.ch.url')}>
                <input id="nc-url" class="input" type="url" value={form.url} onInput={(e) => set('url', e.currentTarget.value)} />
              </Field>
              <Field id="nc-format" label={t('notify.ch.payload')} class="field-narrow">
                <select id="nc-format" class="input" value={form.format} onChange={(e) => set('format', e.currentTarget.value as WebhookFormat)}>
                  {(['generic', 'slack', 'teams'] as const).map((f) => (
                    <option key={f} value={f}>
                      {t(`notify.ch.format.${f}`)}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
          )}
          {saveError && <ErrorState error={saveError} inline />}
          <div class="row-actions">
            <button type="submit" class="btn btn-primary" data-testid="nc-save" disabled={saving || !form.name.trim()}>
              {saving && <Spinner size="sm" />}
              {saving ? t('common.saving') : t('common.save')}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
