// The compare dialog's footer: how many keys are selected, and copying them
// (a first click asks for a comment and the confirmation).
import type { PrefixDiff } from '../../../api/types';
import { Icon } from '../../../components/Icon';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import type { CopySelected } from './useCopySelected';

export function CopyFooter({ result, count, copy }: { result: PrefixDiff; count: number; copy: CopySelected }) {
  const t = useT();
  const { confirming, copying } = copy;
  return (
    <>
      <span class="modal-footer-hint">{t('config.compare.selected', { count })}</span>
      {confirming ? (
        <>
          <input
            class="input input-sm cmp-comment"
            value={copy.comment}
            placeholder={t('config.save.commentPlaceholder')}
            data-testid="config-comment"
            aria-label={t('config.save.comment')}
            onInput={(e) => copy.setComment((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="button" class="btn" onClick={() => copy.setConfirming(false)} disabled={copying}>
            {t('common.cancel')}
          </button>
          <button type="button" class="btn btn-primary" onClick={() => void copy.copy()} disabled={copying} data-testid="config-copy-confirm">
            {copying && <Spinner />}
            {t('config.compare.copyConfirm', { count, to: result.right })}
          </button>
        </>
      ) : (
        <button type="button" class="btn btn-primary" disabled={count === 0} onClick={() => copy.setConfirming(true)} data-testid="config-copy-selected">
          <Icon name="copy" size={14} />
          {t('config.compare.copySelected')}
        </button>
      )}
    </>
  );
}
