// What a workspace (VMs, Images, Clusters, Config) shows before a connection
// of its kind is saved: what the workspace does, and a button that opens the
// connection form for that kind. Loading and load errors of the connection
// list show here too.
import { useConnections, useNav } from '../../app/store';
import { WORKSPACE_KIND } from '../../app/views';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';

type Workspace = keyof typeof WORKSPACE_KIND;

export function NoConnection({ view }: { view: Workspace }) {
  const t = useT();
  const kind = WORKSPACE_KIND[view];
  const { list, error, reload } = useConnections();
  const { navigate } = useNav();

  let body;
  if (error && !list) body = <ErrorState error={error} onRetry={() => void reload()} />;
  else if (!list)
    body = (
      <div class="dt-state">
        <Spinner size="md" /> {t('common.loading')}
      </div>
    );
  else
    body = (
      <EmptyState
        icon={view}
        title={t(`workspace.${view}.emptyTitle`)}
        testid="workspace-empty"
        actions={
          <button type="button" class="btn btn-primary" onClick={() => navigate('connections', { addKind: kind })} data-testid="workspace-add">
            <Icon name="plus" />
            {t(`workspace.${view}.add`)}
          </button>
        }
      >
        <p>{t(`workspace.${view}.emptyBody`)}</p>
      </EmptyState>
    );

  return (
    <section class="view" data-testid={`view-${view}`}>
      {body}
    </section>
  );
}
