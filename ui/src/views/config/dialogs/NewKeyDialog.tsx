// New key: asks for the key's name under the open prefix, then opens it in the editor.
import { useState } from 'preact/hooks';
import { Modal } from '../../../components/Modal';
import { useT } from '../../../i18n';
import { newKeyName, newKeyProblem } from '../confirm';

export function NewKeyDialog({ prefix, onClose, onCreate }: { prefix: string; onClose: () => void; onCreate: (key: string) => void }) {
  const t = useT();
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const problem = newKeyProblem(name);
  return (
    <Modal
      title={t('config.newKey.title')}
      onClose={onClose}
      testid="config-new-key-dialog"
      initialFocus="#cfg-new-name"
      onSubmit={() => {
        setTouched(true);
        if (!problem) onCreate(newKeyName(prefix, name));
      }}
      footer={
        <>
          <button type="button" class="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn btn-primary" data-testid="config-new-key-create">
            {t('config.newKey.next')}
          </button>
        </>
      }
    >
      <div class={`field${touched && problem ? ' field-invalid' : ''}`}>
        <label class="field-label" for="cfg-new-name">
          {t('config.newKey.name')}
        </label>
        <div class="input-group cfg-prefixed">
          <span class="cfg-prefix mono">{prefix}</span>
          <input
            id="cfg-new-name"
            class="input mono"
            value={name}
            placeholder="service/config.json"
            data-testid="config-new-key-name"
            aria-invalid={touched && !!problem}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        {touched && problem ? (
          <div class="field-error" role="alert">
            {t(`config.newKey.problem.${problem}`)}
          </div>
        ) : (
          <div class="field-hint">{t('config.newKey.hint')}</div>
        )}
      </div>
    </Modal>
  );
}
