// Above the requests: what the chosen store proves (a personal store, or a
// shared etcd without auth, is said plainly) and the records it skipped as
// malformed or written where their writer may not write.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client';
import type { StoreStatus } from '../../api/types';
import { useT } from '../../i18n';

export function StoreBanner({ version }: { version: number }) {
  const t = useT();
  const [status, setStatus] = useState<StoreStatus | null>(null);
  useEffect(() => {
    let live = true;
    api.vmsStoreStatus().then(
      (s) => live && setStatus(s),
      () => live && setStatus(null),
    );
    return () => {
      live = false;
    };
  }, [version]);
  if (!status) return null;
  return (
    <>
      {status.trust === 'personal' && (
        <p class="banner banner-warn" data-testid="vms-store-personal-banner">
          {t('vms.settings.personal')}
        </p>
      )}
      {status.trust === 'shared_no_auth' && (
        <p class="banner banner-error" role="alert" data-testid="vms-store-no-auth-banner">
          {t('vms.settings.noAuthWarning')}
        </p>
      )}
      {status.problems.length > 0 && (
        <details class="banner banner-warn banner-list" data-testid="vms-store-problems">
          <summary>{t('vms.skipped', { count: status.problems.length })}</summary>
          <ul>
            {status.problems.map((p) => (
              <li key={p.key}>
                <span class="mono">{p.key}</span>: {p.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
