// History of the open key (etcd revisions, newest first) with "diff with
// current" and a guarded "roll back to this", plus Opsdeck's audit entries.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, History, HistoryEntry, KeyValue } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { useToast } from '../../components/Toast';
import { useLanguage, useT } from '../../i18n';
import { formatDateTime, formatRelative } from '../../util/time';
import { ConflictDialog, DiffView } from './parts';

export const HISTORY_LIMIT = 100;

interface Props {
  connId: string;
  keyName: string;
  current: KeyValue | null;
  /** after a rollback was written: reload the value */
  onRolledBack: () => void;
}

const preview = (v: string) => (v.length > 160 ? `${v.slice(0, 160)}…` : v).replace(/\s+/g, ' ');

export function HistoryPanel({ connId, keyName, current, onRolledBack }: Props) {
  const t = useT();
  const lang = useLanguage();
  const toast = useToast();
  const [history, setHistory] = useState<History | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);
  const [diffOf, setDiffOf] = useState<HistoryEntry | null>(null);
  const [rollback, setRollback] = useState<HistoryEntry | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [writeError, setWriteError] = useState<AppError | null>(null);
  const [conflict, setConflict] = useState<{ theirs: KeyValue | null; entry: HistoryEntry } | null>(null);
  const seqRef = useRef(0);

  const load = async () => {
    const mine = ++seqRef.current;
    setLoading(true);
    setError(null);
    try {
      const h = await api.configHistory(connId, keyName, HISTORY_LIMIT);
      if (mine === seqRef.current) setHistory(h);
    } catch (e) {
      if (mine === seqRef.current) setError(toAppError(e));
    } finally {
      if (mine === seqRef.current) setLoading(false);
    }
  };

  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reloads when the key or its revision changes
  }, [keyName, current?.meta.mod_revision]);

  const doRollback = async (entry: HistoryEntry, expected: number) => {
    setBusy(true);
    setWriteError(null);
    try {
      const res = await api.configRollback(connId, keyName, entry.mod_revision, expected, comment.trim());
      if (res.status === 'written') {
        toast.push({ kind: 'ok', title: t('config.history.rolledBack', { key: keyName, revision: entry.mod_revision }) });
        setRollback(null);
        setConflict(null);
        setComment('');
        onRolledBack();
      } else {
        setRollback(null);
        setConflict({ theirs: res.current, entry });
      }
    } catch (e) {
      setWriteError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  if (!history && loading)
    return (
      <div class="cfg-panel-state">
        <Spinner size="md" /> {t('common.loading')}
      </div>
    );
  if (error) return <ErrorState error={error} title={t('config.history.loadFailed')} onRetry={() => void load()} />;
  if (!history) return null;

  const curValue = current?.value ?? '';
  const curRev = current?.meta.mod_revision ?? 0;

  return (
    <div class="cfg-history">
      <div class="cfg-history-bar">
        <span class="muted">{t('config.history.count', { count: history.entries.length, n: history.entries.length })}</span>
        <span class="toolbar-spacer" />
        <button type="button" class="btn btn-sm btn-ghost" onClick={() => void load()} disabled={loading}>
          {loading ? <Spinner /> : <Icon name="refresh" size={14} />}
          {t('common.refresh')}
        </button>
      </div>
      {history.compacted_at !== null && (
        <div class="banner banner-info" role="status" data-testid="config-history-compacted">
          <Icon name="info" class="banner-icon" />
          <span class="banner-body">{t('config.history.compacted', { revision: history.compacted_at })}</span>
        </div>
      )}
      {history.entries.length === 0 ? (
        <EmptyState compact icon="history" title={t('config.history.empty')} />
      ) : (
        <ol class="cfg-history-list">
          {history.entries.map((e, i) => (
            <li key={e.mod_revision} class="cfg-history-row" data-testid="config-history-row" data-revision={e.mod_revision}>
              <div class="cfg-history-meta">
                <span class="cfg-history-rev">
                  {t('config.history.revision', { revision: e.mod_revision })}
                </span>
                <span class="muted">{e.value === null ? t('config.history.deleted') : t('config.history.version', { version: e.version })}</span>
                {e.mod_revision === curRev && i === 0 && <span class="pill">{t('config.history.current')}</span>}
                {e.value !== null && <span class="muted">{t(`config.format.${e.format}`)}</span>}
              </div>
              <code class="cfg-history-preview">{e.value === null ? t('config.history.deletedValue') : preview(e.value) || t('config.history.emptyValue')}</code>
              <div class="cfg-history-actions">
                {e.value !== null && e.mod_revision !== curRev && (
                  <>
                    <button type="button" class="btn btn-sm" onClick={() => setDiffOf(e)} data-testid="config-history-diff">
                      {t('config.history.diff')}
                    </button>
                    <button
                      type="button"
                      class="btn btn-sm"
                      onClick={() => {
                        setWriteError(null);
                        setRollback(e);
                      }}
                      data-testid="config-rollback"
                      disabled={!current || e.format === 'binary'}
                    >
                      <Icon name="history" size={14} />
                      {t('config.history.rollback')}
                    </button>
                  </>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
      {history.truncated && <p class="footnote">{t('config.history.truncated', { count: history.entries.length })}</p>}

      <h3 class="cfg-section-title">{t('config.history.auditTitle')}</h3>
      {history.audit.length === 0 ? (
        <p class="muted">{t('config.history.auditEmpty')}</p>
      ) : (
        <ul class="cfg-audit-list">
          {history.audit.map((a) => (
            <li key={a.id} class="cfg-audit-row" data-testid="config-history-audit">
              <StatusBadge state={a.result === 'ok' ? 'ok' : 'error'}>{a.result === 'ok' ? t('audit.resultOk') : t('audit.resultError')}</StatusBadge>
              <strong>{a.actor}</strong>
              <span class="muted" title={formatDateTime(a.at)}>
                {formatRelative(a.at, lang)}
              </span>
              <span class="mono">{a.action}</span>
              <span class="cfg-audit-detail">{a.detail}</span>
            </li>
          ))}
        </ul>
      )}

      {diffOf && (
        <Modal title={t('config.history.diffTitle', { revision: diffOf.mod_revision })} onClose={() => setDiffOf(null)} size="lg" testid="config-history-diff-dialog">
          <DiffView oldText={diffOf.value ?? ''} newText={curValue} legend={[t('config.history.legendRev', { revision: diffOf.mod_revision }), t('config.history.legendCurrent', { revision: curRev })]} />
        </Modal>
      )}

      {rollback && (
        <Modal
          title={t('config.history.rollbackTitle', { revision: rollback.mod_revision })}
          onClose={() => !busy && setRollback(null)}
          size="lg"
          testid="config-diff"
          initialFocus="[data-testid=config-comment]"
          onSubmit={() => void doRollback(rollback, curRev)}
          footer={
            <>
              <span class="modal-footer-hint">{t('config.save.guard', { revision: curRev })}</span>
              <button type="button" class="btn" onClick={() => setRollback(null)} disabled={busy}>
                {t('common.cancel')}
              </button>
              <button type="submit" class="btn btn-primary" data-testid="config-confirm-save" disabled={busy}>
                {busy && <Spinner />}
                {t('config.history.rollbackConfirm')}
              </button>
            </>
          }
        >
          <DiffView oldText={curValue} newText={rollback.value ?? ''} legend={[t('config.history.legendCurrent', { revision: curRev }), t('config.history.legendRev', { revision: rollback.mod_revision })]} />
          <div class="field">
            <label class="field-label" for="cfg-rb-comment">
              {t('config.save.comment')}
            </label>
            <input
              id="cfg-rb-comment"
              class="input"
              value={comment}
              placeholder={t('config.history.commentPlaceholder')}
              data-testid="config-comment"
              onInput={(e) => setComment((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          {writeError && <ErrorState error={writeError} inline title={t('config.errors.writeFailed')} />}
        </Modal>
      )}

      {conflict && (
        <ConflictDialog
          keyName={keyName}
          theirs={conflict.theirs}
          mine={conflict.entry.value}
          op="rollback"
          busy={busy}
          error={writeError}
          onKeepEditing={() => setConflict(null)}
          onReloadTheirs={() => {
            setConflict(null);
            onRolledBack();
          }}
          onOverwrite={() => void doRollback(conflict.entry, conflict.theirs?.meta.mod_revision ?? 0)}
        />
      )}
    </div>
  );
}
