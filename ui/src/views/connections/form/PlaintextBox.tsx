// Clear text to another machine (an etcd password, the Docker API) only when
// the user says so, with the risk in red. Nothing when there is no such risk.
import { useT } from '../../../i18n';
import { plaintextRisk } from '../validate';
import type { ConnectionFormState } from './useConnectionForm';

export function PlaintextBox({ f }: { f: ConnectionFormState }) {
  const t = useT();
  const { form, set } = f;
  if (!plaintextRisk(form)) return null;
  return (
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
}
