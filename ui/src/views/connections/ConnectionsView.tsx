// Saved connections: sortable/filterable table, test/edit/delete per row, add form.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Connection, TestOutcome } from '../../api/types';
import { useConnections, useNav, useSettings } from '../../app/store';
import { DataTable, type Column } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { KindLabel } from '../../components/KindLabel';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { ConnectionForm } from './ConnectionForm';
import { nameColumn, targetColumn } from './columns';
import { ConnectionStatus } from './ConnectionStatus';
import { userOf } from './format';
import { emptyForm, fromConnection, type ConnectionForm as FormState } from './validate';

interface FormOpen {
  mode: 'add' | 'edit';
  initial: FormState;
  key: number;
}

function toggle(set: Set<string>, id: string, on?: boolean): Set<string> {
  const next = new Set(set);
  if (on ?? !next.has(id)) next.add(id);
  else next.delete(id);
  return next;
}

export function ConnectionsView() {
  const t = useT();
  const toast = useToast();
  const { settings } = useSettings();
  const { list, error, loading, reload, upsert, remove, setLastTest } = useConnections();
  const { intent, clearIntent } = useNav();

  const [form, setForm] = useState<FormOpen | null>(null);
  const [running, setRunning] = useState<Set<string>>(new Set());
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<AppError | null>(null);

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
  const openEdit = (c: Connection) => setForm({ mode: 'edit', initial: fromConnection(c), key: Date.now() });

  const runTest = async (c: Connection) => {
    setRunning((s) => toggle(s, c.id, true));
    try {
      const outcome = await api.connectionTest(c.id);
      setLastTest(c.id, outcome);
      if (!outcome.ok) setExpanded((s) => toggle(s, c.id, true));
    } catch (e) {
      // A rejection (unknown id, keychain...) is shown like a failed test.
      const err = toAppError(e);
      const outcome: TestOutcome = {
        ok: false,
        version: null,
        message: err.message,
        error_code: err.code,
        latency_ms: 0,
        tested_at: new Date().toISOString(),
      };
      setLastTest(c.id, outcome);
      toast.push({ kind: 'error', title: t('connections.testFailed', { name: c.name }), detail: err.message });
    } finally {
      setRunning((s) => toggle(s, c.id, false));
    }
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    setDeleteBusy(true);
    setDeleteError(null);
    try {
      await api.connectionDelete(deleting.id);
      remove(deleting.id);
      toast.push({ kind: 'ok', title: t('connections.deleted', { name: deleting.name }) });
      setDeleting(null);
      void reload();
    } catch (e) {
      setDeleteError(toAppError(e));
    } finally {
      setDeleteBusy(false);
    }
  };

  const onSaved = (c: Connection) => {
    upsert(c);
    setForm(null);
    toast.push({ kind: 'ok', title: t('connections.saved', { name: c.name }) });
    void reload();
  };

  const columns: Column<Connection>[] = [
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
          onToggle={() => setExpanded((s) => toggle(s, c.id))}
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
            {formatRelative(c.last_test.tested_at, settings.language)}
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
            onClick={() => void runTest(c)}
            title={`${t('common.test')} ${c.name}`}
          >
            {running.has(c.id) ? <Spinner size="sm" /> : <Icon name="play" size={12} />}
            <span class="btn-text">{t('common.test')}</span>
          </button>
          <button
            type="button"
            class="btn btn-sm btn-icon"
            data-testid="conn-edit"
            onClick={() => openEdit(c)}
            title={`${t('common.edit')} ${c.name}`}
            aria-label={`${t('common.edit')} ${c.name}`}
          >
            <Icon name="edit" size={14} />
          </button>
          <button
            type="button"
            class="btn btn-sm btn-icon btn-danger-ghost"
            data-testid="conn-delete"
            onClick={() => {
              setDeleteError(null);
              setDeleting(c);
            }}
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

  const detail = (c: Connection) => {
    const last = c.last_test;
    if (!expanded.has(c.id) || !last || running.has(c.id)) return null;
    return (
      <dl class={`test-detail ${last.ok ? 'test-detail-ok' : 'test-detail-error'}`} data-testid="conn-detail">
        <div class="test-detail-message">
          <dt>{t('connections.detail.message')}</dt>
          <dd>{last.message}</dd>
        </div>
        {last.error_code && (
          <div>
            <dt>{t('connections.detail.code')}</dt>
            <dd>
              <code>{last.error_code}</code>
            </dd>
          </div>
        )}
        <div>
          <dt>{t('connections.detail.latency')}</dt>
          <dd>{t('connections.detail.latencyValue', { ms: last.latency_ms })}</dd>
        </div>
        <div>
          <dt>{t('connections.detail.testedAt')}</dt>
          <dd class="mono">{formatDateTime(last.tested_at)}</dd>
        </div>
      </dl>
    );
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

      {form && (
        <ConnectionForm
          key={form.key}
          mode={form.mode}
          initial={form.initial}
          otherNames={otherNames}
          onSaved={onSaved}
          onClose={() => setForm(null)}
        />
      )}

      {deleting && (
        <Modal
          title={t('connections.deleteTitle')}
          onClose={() => setDeleting(null)}
          testid="delete-dialog"
          initialFocus="[data-testid=cancel-delete]"
          footer={
            <>
              <button type="button" class="btn" data-testid="cancel-delete" onClick={() => setDeleting(null)}>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                class="btn btn-danger"
                data-testid="confirm-delete"
                disabled={deleteBusy}
                onClick={() => void confirmDelete()}
              >
                {deleteBusy && <Spinner size="sm" />}
                {t('common.delete')}
              </button>
            </>
          }
        >
          <p>{t('connections.deleteBody', { name: deleting.name, kind: t(`kind.${deleting.spec.kind}`) })}</p>
          {deleteError && (
            <div class="form-error" role="alert">
              <Icon name="alert" class="form-error-icon" />
              <div>{deleteError.message}</div>
            </div>
          )}
        </Modal>
      )}
    </section>
  );
}
