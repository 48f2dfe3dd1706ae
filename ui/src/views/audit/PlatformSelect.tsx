// The platform filter of the audit views: every platform, or one.
import { KINDS } from '../../api/types';
import { useT } from '../../i18n';

export function PlatformSelect({ value, onChange, testid }: { value: string; onChange: (platform: string) => void; testid: string }) {
  const t = useT();
  return (
    <select class="input input-sm" data-testid={testid} aria-label={t('audit.platform')} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="">{t('audit.allPlatforms')}</option>
      {[...KINDS, 'app' as const].map((k) => (
        <option key={k} value={k}>
          {t(`kind.${k}`)}
        </option>
      ))}
    </select>
  );
}
