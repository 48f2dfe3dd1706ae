import type { ComponentChildren } from 'preact';
import { Icon, type IconName } from './Icon';

interface Props {
  icon?: IconName;
  title: string;
  children?: ComponentChildren;
  /** buttons */
  actions?: ComponentChildren;
  /** small footnote under the actions */
  note?: ComponentChildren;
  compact?: boolean;
  testid?: string;
}

export function EmptyState({ icon, title, children, actions, note, compact, testid }: Props) {
  return (
    <div class={`empty${compact ? ' empty-compact' : ''}`} data-testid={testid}>
      {icon && (
        <div class="empty-icon">
          <Icon name={icon} size={compact ? 20 : 28} />
        </div>
      )}
      <h2 class="empty-title">{title}</h2>
      {children && <div class="empty-body">{children}</div>}
      {actions && <div class="empty-actions">{actions}</div>}
      {note && <p class="empty-note">{note}</p>}
    </div>
  );
}
