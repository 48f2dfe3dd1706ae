import type { ComponentChildren } from 'preact';
import { Spinner } from './Spinner';

export type BadgeState = 'ok' | 'error' | 'running' | 'never' | 'warn' | 'info';

interface Props {
  state: BadgeState;
  children: ComponentChildren;
  title?: string;
  class?: string;
}

/** A colored dot (or spinner) + text. The color is never the only signal: the text says it too. */
export function StatusBadge({ state, children, title, class: cls }: Props) {
  return (
    <span class={`badge badge-${state}${cls ? ` ${cls}` : ''}`} title={title}>
      {state === 'running' ? <Spinner size="sm" /> : <span class="badge-dot" aria-hidden="true" />}
      <span class="badge-text">{children}</span>
    </span>
  );
}
