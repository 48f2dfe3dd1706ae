// The progress of a scan of all running containers: which image of how many, and cancel.
import type { ImageProgress } from '../../api/types';
import { api } from '../../api/client';
import { Spinner } from '../../components/Spinner';
import { useT } from '../../i18n';
import { progressPercent, widthRef } from './model';

export function RunningScanBar({ running }: { running: { task: string; progress: ImageProgress | null } }) {
  const t = useT();
  const pct = progressPercent(running.progress);
  return (
    <div class="img-running" data-testid="images-running-progress">
      <Spinner size="sm" />
      <span>
        {running.progress ? t('images.running.progress', { index: running.progress.index + 1, total: running.progress.total, image: running.progress.image }) : t('images.running.starting')}
      </span>
      <div class="img-bar img-bar-sm">
        <div class="img-bar-fill" ref={widthRef(pct ?? 10)} />
      </div>
      <button type="button" class="btn btn-sm" onClick={() => void api.imagesCancel(running.task)}>
        {t('common.cancel')}
      </button>
    </div>
  );
}
