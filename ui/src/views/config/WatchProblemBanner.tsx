// The banner shown when the watch of the open prefix broke or was compacted, with its restart button.
import { Icon } from '../../components/Icon';
import { useT } from '../../i18n';
import type { WatchProblem } from './tree';

export function WatchProblemBanner({ problem, onRestart }: { problem: WatchProblem; onRestart: () => void }) {
  const t = useT();
  return (
    <div class="banner banner-warn" role="alert" data-testid="config-watch-problem">
      <Icon name="alert" class="banner-icon" />
      <strong class="banner-title">
        {problem.kind === 'compacted' ? t('config.watch.compacted', { revision: problem.revision ?? 0 }) : t('config.watch.error')}
      </strong>
      <span class="banner-body">{problem.kind === 'error' ? problem.message : t('config.watch.compactedBody')}</span>
      <span class="toolbar-spacer" />
      <button type="button" class="btn btn-sm" onClick={onRestart} data-testid="config-watch-restart">
        <Icon name="refresh" size={14} />
        {t('config.watch.restart')}
      </button>
    </div>
  );
}
