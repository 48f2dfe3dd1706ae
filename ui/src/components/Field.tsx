import type { ComponentChildren } from 'preact';
import { useT } from '../i18n';

interface Props {
  id: string;
  label: string;
  hint?: ComponentChildren;
  error?: string | null;
  optional?: boolean;
  children: ComponentChildren;
  class?: string;
}

/**
 * Label + control + hint/error. The control must use `id` and should set
 * aria-describedby={describedBy(id)} and aria-invalid when `error` is set.
 */
export function Field({ id, label, hint, error, optional, children, class: cls }: Props) {
  const t = useT();
  return (
    <div class={`field${error ? ' field-invalid' : ''}${cls ? ` ${cls}` : ''}`}>
      <label class="field-label" for={id}>
        {label}
        {optional && <span class="field-optional"> ({t('common.optional')})</span>}
      </label>
      {children}
      {error ? (
        <div class="field-error" id={`${id}-msg`} role="alert">
          {error}
        </div>
      ) : hint ? (
        <div class="field-hint" id={`${id}-msg`}>
          {hint}
        </div>
      ) : null}
    </div>
  );
}

export const describedBy = (id: string) => `${id}-msg`;
