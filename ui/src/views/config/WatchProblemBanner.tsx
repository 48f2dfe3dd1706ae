// The banners of the open prefix's watch: stopped for good (etcd refused it),
// with its restart button; and resumed after a gap (etcd compacted the history
// the watch needed), naming what may have been missed.
import { Icon } from '../../components/Icon';
import { useT } from '../../i18n';
import type { WatchProblem } from './tree';
import type { WatchGap } from './usePrefixWatch';

export function WatchProblemBanner({ problem, onRestart }: { problem: WatchProblem; onRestart: () => void }) {
  const t = useT();
  return (
    <div class="banner banner-warn" role="alert" data-testid="config-watch-problem">
      <Icon name="alert" class="banner-icon" />
      <strong class="banner-title">{t('config.watch.error')}</strong>
      <span class="banner-body">{problem.message}</span>
      <span class="toolbar-spacer" />
      <button type="button" class="btn btn-sm" onClick={onRestart} data-testid="config-watch-restart">
        <Icon name="refresh" size={14} />
        {t('config.watch.restart')}
      </button>
    </div>
  );
}

const SHOWN = 10;

export function WatchGapBanner({ gap, onDismiss }: { gap: WatchGap; onDismiss: () => void }) {
  const t = useT();
  const shown = gap.changed.slice(0, SHOWN);
  const more = gap.changed.length - shown.length;
  return (
    <div class="banner banner-warn" role="status" data-testid="config-watch-gap">
      <Icon name="alert" class="banner-icon" />
      <strong class="banner-title">{t('config.watch.gapTitle', { from: gap.last_revision + 1, to: gap.revision })}</strong>
      <span class="banner-body">
        {gap.changed.length === 0
          ? t('config.watch.gapNone')
          : t(gap.more_changed ? 'config.watch.gapChangedMore' : 'config.watch.gapChanged', { count: gap.changed.length, n: gap.changed.length })}{' '}
        {shown.length > 0 && (
          <span class="mono" data-testid="config-watch-gap-keys">
            {shown.join(', ')}
            {more > 0 && ` ${t('config.watch.gapAndMore', { n: more })}`}
          </span>
        )}{' '}
        {t('config.watch.gapDeletes')}
      </span>
      <span class="toolbar-spacer" />
      <button type="button" class="btn btn-sm" onClick={onDismiss} data-testid="config-watch-gap-dismiss">
        {t('config.watch.gapDismiss')}
      </button>
    </div>
  );
}
