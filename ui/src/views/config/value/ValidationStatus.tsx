// Whether the draft is valid in its format: checking, valid, or the parse
// error with its line and column.
import type { ValueFormat } from '../../../api/types';
import { Icon } from '../../../components/Icon';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import type { ValidationState } from './useValidation';

export function ValidationStatus({ validation: { validation, fresh, structured, current: v }, format }: { validation: ValidationState; format: ValueFormat }) {
  const t = useT();
  return (
    <div
      class={`cfg-validation ${v ? (v.ok ? 'cfg-valid' : 'cfg-invalid') : 'cfg-validating'}`}
      data-testid="config-validation"
      data-ok={validation ? String(validation.ok) : 'true'}
      data-pending={fresh ? undefined : 'true'}
      role="status"
      aria-live="polite"
    >
      {!v ? (
        <>
          <Spinner /> {t('config.value.validating')}
        </>
      ) : v.ok ? (
        <>
          <Icon name="check" size={14} /> {structured ? t('config.value.valid', { format: t(`config.format.${format}`) }) : t('config.value.plainNote')}
        </>
      ) : (
        <>
          <Icon name="alert" size={14} />
          <span class="truncate" title={v.error ?? ''}>
            {v.line !== null
              ? t('config.value.invalidAt', { line: v.line, column: v.column ?? 1, error: v.error ?? '' })
              : t('config.value.invalid', { error: v.error ?? '' })}
          </span>
        </>
      )}
    </div>
  );
}
