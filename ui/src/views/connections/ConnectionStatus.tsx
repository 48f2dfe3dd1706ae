import type { Connection } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { testStateOf } from './format';

interface Props {
  connection: Connection;
  running: boolean;
  /** Makes the cell a toggle for the detail row (Connections view). */
  onToggle?: () => void;
  expanded?: boolean;
  testid?: string;
}

/**
 * Last test result: the version on success, the backend's message on failure.
 * The full message is always in the DOM (the cell only truncates it visually)
 * and in the tooltip.
 */
export function ConnectionStatus({ connection, running, onToggle, expanded, testid }: Props) {
  const t = useT();
  const state = testStateOf(connection, running);
  const last = connection.last_test;
  let text: string;
  let title: string | undefined;
  if (state === 'running') text = t('connections.status.running');
  else if (!last) text = t('connections.status.never');
  else if (last.ok) {
    text = last.version ?? t('connections.status.ok');
    title = last.message;
  } else {
    text = last.message;
    title = last.message;
  }
  const badge = (
    <StatusBadge state={state} title={title}>
      {text}
    </StatusBadge>
  );
  if (onToggle && last && !running) {
    return (
      <button
        type="button"
        class="status-cell status-toggle"
        data-testid={testid}
        data-state={state}
        aria-expanded={expanded ? 'true' : 'false'}
        aria-label={`${t('connections.detail.toggle')}: ${text}`}
        onClick={onToggle}
      >
        {badge}
      </button>
    );
  }
  return (
    <span class="status-cell" data-testid={testid} data-state={state}>
      {badge}
    </span>
  );
}
