// The last test of a connection, under its row: message, error code, latency, time.
import type { TestOutcome } from '../../api/types';
import { ErrorDetails } from '../../components/ErrorDetails';
import { useT } from '../../i18n';
import { formatDateTime } from '../../util/time';

export function TestDetail({ last }: { last: TestOutcome }) {
  const t = useT();
  return (
    <dl class={`test-detail ${last.ok ? 'test-detail-ok' : 'test-detail-error'}`} data-testid="conn-detail">
      <div class="test-detail-message">
        <dt>{t('connections.detail.message')}</dt>
        <dd>
          {last.message}
          <ErrorDetails details={last.details} />
        </dd>
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
}
