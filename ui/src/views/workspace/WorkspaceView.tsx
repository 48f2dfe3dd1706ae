// The four workspaces (VMs, Images, Clusters, Config). Their inventories come in
// later releases; for now each lists its saved connections or explains itself.
import { useConnections, useNav, useSettings } from '../../app/store';
import { WORKSPACE_KIND } from '../../app/views';
import type { Connection } from '../../api/types';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { ConnectionStatus } from '../connections/ConnectionStatus';
import { nameColumn, targetColumn } from '../connections/columns';

type Workspace = keyof typeof WORKSPACE_KIND;

export function WorkspaceView({ view }: { view: Workspace }) {
  const t = useT();
  const kind = WORKSPACE_KIND[view];
  const { list, error, reload } = useConnections();
  const { navigate } = useNav();
  const { settings } = useSettings();
  const mine = list?.filter((c) => c.spec.kind === kind) ?? null;

  const add = () => navigate('connections', { addKind: kind });

  const columns: Column<Connection>[] = [
    nameColumn(t),
    targetColumn(t),
    {
      id: 'status',
      header: t('connections.col.status'),
      cell: (c) => <ConnectionStatus connection={c} running={false} />,
      sortValue: (c) => (c.last_test ? (c.last_test.ok ? 0 : 1) : 2),
      filterValue: (c) => c.last_test?.version ?? c.last_test?.message ?? '',
      class: 'col-status',
    },
    {
      id: 'tested',
      header: t('connections.col.tested'),
      cell: (c) =>
        c.last_test ? (
          <span title={formatDateTime(c.last_test.tested_at)}>{formatRelative(c.last_test.tested_at, settings.language)}</span>
        ) : (
          <span class="muted">{t('common.none')}</span>
        ),
      sortValue: (c) => c.last_test?.tested_at ?? null,
      class: 'col-time',
    },
  ];

  let body;
  if (error && !list) body = <ErrorState error={error} onRetry={() => void reload()} />;
  else if (!mine)
    body = (
      <div class="dt-state">
        <Spinner size="md" /> {t('common.loading')}
      </div>
    );
  else if (mine.length === 0)
    body = (
      <EmptyState
        icon={view}
        title={t(`workspace.${view}.emptyTitle`)}
        testid="workspace-empty"
        actions={
          <button type="button" class="btn btn-primary" onClick={add} data-testid="workspace-add">
            <Icon name="plus" />
            {t(`workspace.${view}.add`)}
          </button>
        }
        note={view === 'config' ? undefined : t('workspace.upcoming')}
      >
        <p>{t(`workspace.${view}.emptyBody`)}</p>
      </EmptyState>
    );
  else
    body = (
      <>
        <div class="view-intro">
          <p>{t(`workspace.${view}.intro`)}</p>
        </div>
        <DataTable
          label={t('workspace.savedConnections')}
          columns={columns}
          rows={mine}
          rowKey={(c) => c.id}
          filterable
          initialSort={{ column: 'name', dir: 'asc' }}
          rowAttrs={(c) => ({ 'data-testid': 'ws-row', 'data-name': c.name })}
          onActivate={() => navigate('connections')}
          toolbar={
            <>
              <button type="button" class="btn btn-sm" onClick={() => navigate('connections')}>
                {t('workspace.manageConnections')}
              </button>
              <button type="button" class="btn btn-sm btn-primary" onClick={add}>
                <Icon name="plus" size={14} />
                {t(`workspace.${view}.add`)}
              </button>
            </>
          }
        />
        <p class="footnote">
          <Icon name="info" size={13} /> {t('workspace.upcoming')}
        </p>
      </>
    );

  return (
    <section class="view" data-testid={`view-${view}`}>
      {body}
    </section>
  );
}
