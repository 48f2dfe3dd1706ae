import type { AppError } from '../api/types';
import { useT } from '../i18n';
import { ErrorDetails } from './ErrorDetails';
import { Icon } from './Icon';

interface Props {
  error: AppError;
  title?: string;
  onRetry?: () => void;
  inline?: boolean;
}

/** Shows an AppError: the message is the actionable part, the code helps support. */
export function ErrorState({ error, title, onRetry, inline }: Props) {
  const t = useT();
  // A write whose answer was lost did not necessarily fail: say so, whatever the caller's title.
  const heading = error.code === 'outcome_unknown' ? t('table.outcomeUnknownTitle') : (title ?? t('table.errorTitle'));
  return (
    <div class={inline ? 'error-inline' : 'error-state'} role="alert" data-testid="error-state">
      <Icon name="alert" size={inline ? 16 : 24} class="error-icon" />
      <div class="error-text">
        <div class="error-title">{heading}</div>
        <div class="error-message">
          {error.message} <code class="error-code">{error.code}</code>
        </div>
        <ErrorDetails details={error.details} />
      </div>
      {onRetry && (
        <button type="button" class="btn btn-sm" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}
