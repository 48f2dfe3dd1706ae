// The banner telling that someone else changed (or deleted) the open key, with
// reload (when it still exists) and compare.
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';
import type { ExternalChange } from '../ValuePanel';

interface Props {
  external: ExternalChange;
  dirty: boolean;
  onReload: () => void;
  onCompare: () => void;
}

export function ExternalChangeBanner({ external, dirty, onReload, onCompare }: Props) {
  const t = useT();
  return (
    <div class="banner banner-warn cfg-watch-banner" role="status" data-testid="config-watch-banner">
      <Icon name="alert" class="banner-icon" />
      <strong class="banner-title">
        {external.deleted ? t('config.watch.deletedBy', { revision: external.revision }) : t('config.watch.changedBy', { revision: external.revision })}
      </strong>
      <span class="banner-body">{dirty ? t('config.watch.yourEditKept') : ''}</span>
      <span class="toolbar-spacer" />
      {!external.deleted && (
        <button type="button" class="btn btn-sm" onClick={onReload} data-testid="config-watch-reload">
          {t('config.watch.reload')}
        </button>
      )}
      <button type="button" class="btn btn-sm" onClick={onCompare} data-testid="config-watch-compare">
        {t('config.watch.compare')}
      </button>
    </div>
  );
}
