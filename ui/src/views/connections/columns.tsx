// Table columns shared by every list of connections (Connections view, workspaces).
import type { Connection } from '../../api/types';
import type { Column } from '../../components/DataTable';
import type { TFn } from '../../i18n';
import { targetOf } from './format';

export function nameColumn(t: TFn): Column<Connection> {
  return {
    id: 'name',
    header: t('connections.col.name'),
    cell: (c) => (
      <span class="cell-strong truncate" title={c.name}>
        {c.name}
      </span>
    ),
    sortValue: (c) => c.name,
    filterValue: (c) => c.name,
    class: 'col-name',
  };
}

export function targetColumn(t: TFn): Column<Connection> {
  return {
    id: 'target',
    header: t('connections.col.target'),
    cell: (c) => (
      <span class="mono truncate" title={targetOf(c.spec)}>
        {targetOf(c.spec)}
      </span>
    ),
    sortValue: (c) => targetOf(c.spec),
    filterValue: (c) => targetOf(c.spec),
    class: 'col-target',
  };
}
