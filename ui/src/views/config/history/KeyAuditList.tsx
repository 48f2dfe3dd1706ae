// Opsdeck's audit entries about the key: result, who, when, action, detail.
import type { AuditEntry } from '../../../api/types';
import { StatusBadge } from '../../../components/StatusBadge';
import { useLanguage, useT } from '../../../i18n';
import { formatDateTime, formatRelative } from '../../../util/time';

export function KeyAuditList({ audit }: { audit: AuditEntry[] }) {
  const t = useT();
  const lang = useLanguage();
  return (
    <>
      <h3 class="cfg-section-title">{t('config.history.auditTitle')}</h3>
      {audit.length === 0 ? (
        <p class="muted">{t('config.history.auditEmpty')}</p>
      ) : (
        <ul class="cfg-audit-list">
          {audit.map((a) => (
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
    </>
  );
}
