import type { ComponentChildren } from 'preact';
import type { Language, ThemeSetting } from '../../api/types';
import { useSettings } from '../../app/store';
import { isThemeSetting } from '../../app/theme';
import { ErrorState } from '../../components/ErrorState';
import { Spinner } from '../../components/Spinner';
import { isLanguage, LANGUAGES, useT } from '../../i18n';

function Section({ title, children, testid }: { title: string; children: ComponentChildren; testid?: string }) {
  return (
    <section class="card" data-testid={testid}>
      <h2 class="card-title">{title}</h2>
      <div class="card-body">{children}</div>
    </section>
  );
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function SettingsView() {
  const t = useT();
  const { settings, update, info, infoError, reloadInfo } = useSettings();
  const mod = isMac ? '⌘' : 'Ctrl';

  return (
    <section class="view view-settings" data-testid="view-settings">
      <div class="settings-grid">
        <Section title={t('settings.appearance')}>
          <div class="setting-row">
            <label for="settings-theme" class="setting-label">
              {t('settings.theme')}
            </label>
            <select
              id="settings-theme"
              data-testid="settings-theme"
              class="input"
              value={settings.theme}
              onChange={(e) => {
                const v = e.currentTarget.value;
                if (isThemeSetting(v)) void update({ theme: v as ThemeSetting });
              }}
            >
              <option value="system">{t('settings.themeSystem')}</option>
              <option value="light">{t('settings.themeLight')}</option>
              <option value="dark">{t('settings.themeDark')}</option>
            </select>
          </div>
          <div class="setting-row">
            <label for="settings-language" class="setting-label">
              {t('settings.language')}
            </label>
            <select
              id="settings-language"
              data-testid="settings-language"
              class="input"
              value={settings.language}
              onChange={(e) => {
                const v = e.currentTarget.value;
                if (isLanguage(v)) void update({ language: v as Language });
              }}
            >
              {LANGUAGES.map((l) => (
                <option key={l.code} value={l.code} lang={l.code}>
                  {l.label}
                </option>
              ))}
            </select>
          </div>
        </Section>

        <Section title={t('settings.about')} testid="settings-about">
          {infoError ? (
            <ErrorState error={infoError} onRetry={reloadInfo} inline />
          ) : !info ? (
            <Spinner size="md" label={t('common.loading')} />
          ) : (
            <dl class="kv">
              <dt>{t('settings.version')}</dt>
              <dd class="mono" data-testid="about-version">
                {info.version}
              </dd>
              <dt>{t('settings.dataDir')}</dt>
              <dd class="mono selectable">{info.data_dir}</dd>
              <dt>{t('settings.database')}</dt>
              <dd class="mono selectable">{info.database}</dd>
              <dt>{t('settings.keychain')}</dt>
              <dd class="mono">{info.keychain}</dd>
            </dl>
          )}
        </Section>

        <Section title={t('settings.shortcuts')}>
          <dl class="kv kv-keys">
            <dt>
              <kbd>{mod}</kbd> + <kbd>0</kbd>…<kbd>8</kbd>
            </dt>
            <dd>{t('settings.keySwitch')}</dd>
            <dt>
              <kbd>/</kbd>
            </dt>
            <dd>{t('settings.keyFilter')}</dd>
            <dt>
              <kbd>↑</kbd> <kbd>↓</kbd> <kbd>Home</kbd> <kbd>End</kbd>
            </dt>
            <dd>{t('settings.keyRows')}</dd>
            <dt>
              <kbd>Enter</kbd>
            </dt>
            <dd>{t('settings.keyOpen')}</dd>
            <dt>
              <kbd>Esc</kbd>
            </dt>
            <dd>{t('settings.keyClose')}</dd>
          </dl>
        </Section>
      </div>
    </section>
  );
}
