// The head of the value panel: the key's name (new, deleted) and its metadata
// (revisions, version, size, detected format, lease).
import type { KeyValue } from '../../../api/types';
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';
import { formatBytes } from '../confirm';

export function KeyMetaHeader({ keyName, kv, isNew, gone }: { keyName: string; kv: KeyValue | null; isNew: boolean; gone: boolean }) {
  const t = useT();
  const lease = kv && kv.meta.lease !== 0;
  return (
    <div class="cfg-value-head">
      <div class="cfg-value-title">
        <Icon name="key" size={15} />
        <span class="cfg-value-key mono selectable" data-testid="config-value-key">
          {keyName}
        </span>
        {isNew && !kv && <span class="pill">{t('config.value.newKey')}</span>}
        {gone && <span class="pill pill-warn">{t('config.value.deletedPill')}</span>}
      </div>
      {kv && (
        <dl class="cfg-meta">
          <div>
            <dt>{t('config.value.modRevision')}</dt>
            <dd>{kv.meta.mod_revision}</dd>
          </div>
          <div>
            <dt>{t('config.value.createRevision')}</dt>
            <dd>{kv.meta.create_revision}</dd>
          </div>
          <div>
            <dt>{t('config.value.version')}</dt>
            <dd>{kv.meta.version}</dd>
          </div>
          <div>
            <dt>{t('config.value.size')}</dt>
            <dd>{formatBytes(kv.size)}</dd>
          </div>
          <div>
            <dt>{t('config.value.detected')}</dt>
            <dd>{t(`config.format.${kv.format}`)}</dd>
          </div>
          {lease && (
            <div>
              <dt>{t('config.value.lease')}</dt>
              <dd>
                <span class="cfg-lease">{kv.meta.lease.toString(16)}</span>{' '}
                {kv.lease_ttl !== null && t('config.value.ttl', { seconds: kv.lease_ttl })}
              </dd>
            </div>
          )}
        </dl>
      )}
    </div>
  );
}
