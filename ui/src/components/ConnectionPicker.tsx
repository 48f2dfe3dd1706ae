// The workspace toolbar's connection chooser, with the age of the cached
// data shown until the live answer replaces it, and a loading spinner.
import type { Connection } from '../api/types';
import { useSettings } from '../app/store';
import { useT } from '../i18n';
import { formatDateTime, formatRelative } from '../util/time';
import { Icon, type IconName } from './Icon';
import { Spinner } from './Spinner';

interface Props {
  icon: IconName;
  label: string;
  connections: Connection[];
  value: string;
  onChange: (id: string) => void;
  /** data-testid prefix: `<prefix>-connection`, `<prefix>-cached`. */
  testid: string;
  cachedAt?: string | null;
  loading?: boolean;
}

export function ConnectionPicker({ icon, label, connections, value, onChange, testid, cachedAt, loading }: Props) {
  const t = useT();
  const { settings } = useSettings();
  return (
    <>
      <label class="cfg-conn">
        <Icon name={icon} size={16} />
        <span class="sr-only">{label}</span>
        <select class="input input-sm" value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid={`${testid}-connection`}>
          {connections.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      {cachedAt && (
        <span class="cfg-count" data-testid={`${testid}-cached`} title={formatDateTime(cachedAt)}>
          {t('images.cachedAt', { age: formatRelative(cachedAt, settings.language) })}
        </span>
      )}
      {loading && <Spinner size="sm" label={t('common.loading')} />}
    </>
  );
}
