import type { ComponentChildren } from 'preact';
import { Icon } from './Icon';

interface Props {
  kind: 'warn' | 'info' | 'error';
  title: string;
  children?: ComponentChildren;
  testid?: string;
}

/** A full-width notice under the top bar (e.g. "backend not available"). */
export function Banner({ kind, title, children, testid }: Props) {
  return (
    <div class={`banner banner-${kind}`} role={kind === 'info' ? 'status' : 'alert'} data-testid={testid}>
      <Icon name={kind === 'info' ? 'info' : 'alert'} class="banner-icon" />
      <strong class="banner-title">{title}</strong>
      {children && <span class="banner-body">{children}</span>}
    </div>
  );
}
