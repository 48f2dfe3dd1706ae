// Saved connections: sortable/filterable table, test/edit/delete per row, add form.
// State: the open form here; tests (useConnectionTests) and deletes (useDeleteConnection) in hooks.
import { useEffect, useState } from 'preact/hooks';
import type { Connection } from '../../api/types';
import { useConnections, useNav, useSettings } from '../../app/store';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { ConnectionForm } from './ConnectionForm';
import { DeleteConnectionDialog } from './DeleteConnectionDialog';
import { TestDetail } from './TestDetail';
import { useConnectionTests } from './useConnectionTests';
import { useDeleteConnection } from './useDeleteConnection';
import { emptyForm, fromConnection, type ConnectionForm as FormState } from './validate';
import { connectionsColumns } from './viewColumns';

interface FormOpen {
  mode: 'add' | 'edit';
  initial: FormState;
  key: number;
}

export function ConnectionsView() {
  const t = useT();
  const toast = useToast();
  const { settings } = useSettings();
  const { list, error, loading, reload, upsert, remove, setLastTest } = useConnections();
  const { intent, clearIntent } = useNav();

  const [form, setForm] = useState<FormOpen | null>(null);
  const tests = useConnectionTests(setLastTest);
  const del = useDeleteConnection(remove, reload);

  useEffect(() => {
    void reload();
  }, [reload]);

  // "Add a vCenter connection" from a workspace opens the form preset to that kind.
  useEffect(() => {
    if (intent?.addKind) {
      setForm({ mode: 'add', initial: emptyForm(intent.addKind), key: intent.nonce });
      clearIntent();
    }
  }, [intent, clearIntent]);

  const openAdd = () => setForm({ mode: 'add', initial: emptyForm(), key: Date.now() });
  // eslint-disable-next-line react-hooks/purity -- runs on a click or Enter on a row, never during render
  const openEdit = (c: Connection) => setForm({ mode: 'edit', initial: fromConnection(c), key: Date.now() });

  const onSaved = (c: Connection) => {
    upsert(c);
    setForm(null);
    toast.push({ kind: 'ok', title: t('connections.saved', { name: c.name }) });
    void reload();
  };

  const columns = connectionsColumns(t, settings.language, { tests, onEdit: openEdit, onDelete: del.ask });

  const detail = (c: Connection) => {
    const last = c.last_test;
    if (!tests.expanded.has(c.id) || !last || tests.running.has(c.id)) return null;
    return <TestDetail last={last} />;
  };

  const otherNames = (list ?? []).filter((c) => c.id !== form?.initial.id).map((c) => c.name);

  return (
    <section class="view" data-testid="view-connections">
      <DataTable
        label={t('view.connections')}
        testid="conn-table"
        columns={columns}
        rows={list}
        rowKey={(c) => c.id}
        loading={loading}
        error={error}
        onRetry={() => void reload()}
        filterable
        initialSort={{ column: 'name', dir: 'asc' }}
        rowAttrs={(c) => ({ 'data-testid': 'conn-row', 'data-name': c.name, 'data-id': c.id })}
        onActivate={openEdit}
        expanded={detail}
        toolbar={
          <>
            <button type="button" class="btn btn-sm btn-ghost" onClick={() => void reload()} title={t('common.refresh')} aria-label={t('common.refresh')}>
              <Icon name="refresh" size={14} />
            </button>
            <button type="button" class="btn btn-sm btn-primary" data-testid="add-connection" onClick={openAdd}>
              <Icon name="plus" size={14} />
              {t('connections.add')}
            </button>
          </>
        }
        empty={
          <EmptyState
            icon="connections"
            title={t('connections.emptyTitle')}
            actions={
              <button type="button" class="btn btn-primary" onClick={openAdd}>
                <Icon name="plus" />
                {t('connections.add')}
              </button>
            }
          >
            <p>{t('connections.emptyBody')}</p>
          </EmptyState>
        }
      />

      {form && <ConnectionForm key={form.key} mode={form.mode} initial={form.initial} otherNames={otherNames} onSaved={onSaved} onClose={() => setForm(null)} />}

      <DeleteConnectionDialog del={del} />
    </section>
  );
}
