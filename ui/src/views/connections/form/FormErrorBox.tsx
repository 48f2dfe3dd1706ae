// Why the form was not saved: the backend's error, or (after a submit) the
// first field that is wrong.
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';
import { msg } from './fields';
import type { ConnectionFormState } from './useConnectionForm';

export function FormErrorBox({ f }: { f: ConnectionFormState }) {
  const t = useT();
  const { serverError, submitted, firstError, errors } = f;
  return serverError ? (
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
}
