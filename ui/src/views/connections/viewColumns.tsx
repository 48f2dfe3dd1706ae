// The columns of the Connections view's table: name, kind, target, user,
// secret, last test (status and time) and the row's actions (test, edit, delete).
import type { Connection } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { KindLabel } from '../../components/KindLabel';
import { Spinner } from '../../components/Spinner';
import type { TFn } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { nameColumn, targetColumn } from './columns';
import { ConnectionStatus } from './ConnectionStatus';
import { userOf } from './format';
import type { ConnectionTests } from './useConnectionTests';

interface Actions {
  tests: ConnectionTests;
  onEdit: (c: Connection) => void;
  onDelete: (c: Connection) => void;
}

export function connectionsColumns(t: TFn, language: string, { tests, onEdit, onDelete }: Actions): Column<Connection>[] {
  const { running, expanded } = tests;
  return [
    nameColumn(t),
    {
      id: 'kind',
      header: t('connections.col.kind'),
      cell: (c) => <KindLabel kind={c.spec.kind} />,
      sortValue: (c) => c.spec.kind,
      filterValue: (c) => `${c.spec.kind} ${t(`kind.${c.spec.kind}`)}`,
      class: 'col-kind',
    },
    targetColumn(t),
    {
      id: 'user',
      header: t('connections.col.user'),
      cell: (c) => {
        const user = userOf(c.spec);
        return user ? (
          <span class="truncate" title={user}>
            {user}
          </span>
        ) : (
          <span class="muted">{t('common.none')}</span>
        );
      },
      sortValue: (c) => userOf(c.spec),
      filterValue: (c) => userOf(c.spec) ?? '',
      class: 'col-user',
    },
    {
      id: 'secret',
      header: t('connections.col.secret'),
      cell: (c) =>
        c.has_secret ? (
          <span class="secret-yes" data-testid="conn-secret-stored" data-value="yes">
            <Icon name="key" size={13} />
            {t('connections.secretStored')}
          </span>
        ) : (
          <span class="muted" data-testid="conn-secret-stored" data-value="no">
            {t('connections.secretNone')}
          </span>
        ),
      sortValue: (c) => (c.has_secret ? 0 : 1),
      class: 'col-secret',
    },
    {
      id: 'status',
      header: t('connections.col.status'),
      cell: (c) => (
        <ConnectionStatus
          connection={c}
          running={running.has(c.id)}
          testid="conn-status"
          expanded={expanded.has(c.id)}
          onToggle={() => tests.toggleExpanded(c.id)}
        />
      ),
      sortValue: (c) => (c.last_test ? (c.last_test.ok ? 0 : 1) : 2),
      filterValue: (c) => c.last_test?.version ?? c.last_test?.message ?? '',
      class: 'col-status',
    },
    {
      id: 'tested',
      header: t('connections.col.tested'),
      cell: (c) =>
        c.last_test ? (
          <span class="nowrap" title={formatDateTime(c.last_test.tested_at)}>
            {formatRelative(c.last_test.tested_at, language)}
          </span>
        ) : (
          <span class="muted">{t('common.none')}</span>
        ),
      sortValue: (c) => c.last_test?.tested_at ?? null,
      class: 'col-time',
    },
    {
      id: 'actions',
      header: t('connections.col.actions'),
      cell: (c) => (
        <div class="row-actions">
          <button
            type="button"
            class="btn btn-sm"
            data-testid="conn-test"
            disabled={running.has(c.id)}
            onClick={() => void tests.runTest(c)}
            title={`${t('common.test')} ${c.name}`}
          >
            {running.has(c.id) ? <Spinner size="sm" /> : <Icon name="play" size={12} />}
            <span class="btn-text">{t('common.test')}</span>
          </button>
          <button
            type="button"
            class="btn btn-sm btn-icon"
            data-testid="conn-edit"
            onClick={() => onEdit(c)}
            title={`${t('common.edit')} ${c.name}`}
            aria-label={`${t('common.edit')} ${c.name}`}
          >
            <Icon name="edit" size={14} />
          </button>
          <button
            type="button"
            class="btn btn-sm btn-icon btn-danger-ghost"
            data-testid="conn-delete"
            onClick={() => onDelete(c)}
            title={`${t('common.delete')} ${c.name}`}
            aria-label={`${t('common.delete')} ${c.name}`}
          >
            <Icon name="trash" size={14} />
          </button>
        </div>
      ),
      class: 'col-actions',
    },
  ];
}
