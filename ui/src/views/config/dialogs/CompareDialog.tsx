// Compare & copy: compares two prefixes (keys only on the left, different, only
// on the right) and copies the selected keys from left to right, guarded by the
// revisions the comparison showed. State: useCompare and useCopySelected.
import { EmptyState } from '../../../components/EmptyState';
import { ErrorState } from '../../../components/ErrorState';
import { Icon } from '../../../components/Icon';
import { Modal } from '../../../components/Modal';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import type { Section } from './CompareRow';
import { CompareSection } from './CompareSection';
import { CopyFooter } from './CopyFooter';
import { useCompare } from './useCompare';
import { useCopySelected } from './useCopySelected';

const SECTIONS: Section[] = ['only_left', 'different', 'only_right'];

export function CompareDialog({ connId, initialLeft, onClose, onCopied }: { connId: string; initialLeft: string; onClose: () => void; onCopied: () => void }) {
  const t = useT();
  const compare = useCompare(connId, initialLeft);
  const copy = useCopySelected(connId, compare, onCopied);
  const { left, right, result, error, running } = compare;
  const { report } = copy;

  return (
    <Modal
      title={t('config.compare.title')}
      onClose={() => !copy.copying && onClose()}
      size="xl"
      testid="config-compare"
      closeOnBackdrop={false}
      initialFocus="#cfg-cmp-right"
      footer={result && <CopyFooter result={result} count={compare.selected.size} copy={copy} />}
    >
      <form
        class="cmp-form"
        onSubmit={(e) => {
          e.preventDefault();
          void compare.run();
        }}
      >
        <label class="field-label" for="cfg-cmp-left">
          {t('config.compare.left')}
        </label>
        <input id="cfg-cmp-left" class="input mono" value={left} data-testid="config-compare-left" placeholder="/app/dev/" onInput={(e) => compare.setLeft((e.currentTarget as HTMLInputElement).value)} />
        <Icon name="compare" />
        <label class="field-label" for="cfg-cmp-right">
          {t('config.compare.right')}
        </label>
        <input id="cfg-cmp-right" class="input mono" value={right} data-testid="config-compare-right" placeholder="/app/prod/" onInput={(e) => compare.setRight((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="btn btn-primary" data-testid="config-compare-run" disabled={running || !left.trim() || !right.trim()}>
          {running && <Spinner />}
          {t('config.compare.run')}
        </button>
      </form>
      {error && <ErrorState error={error} inline title={t('config.compare.failed')} />}
      {report && (
        <div class={`banner ${report.conflicts.length ? 'banner-warn' : 'banner-info'}`} role="status" data-testid="config-copy-report">
          <Icon name={report.conflicts.length ? 'alert' : 'check'} class="banner-icon" />
          <strong class="banner-title">{t('config.compare.report', { count: report.copied })}</strong>
          {report.conflicts.length > 0 && (
            <span class="banner-body">
              {t('config.compare.conflicts', { count: report.conflicts.length })} <span class="mono">{report.conflicts.join(', ')}</span>
            </span>
          )}
        </div>
      )}
      {!result && !running && !error && <EmptyState compact icon="compare" title={t('config.compare.hintTitle')}>{t('config.compare.hint')}</EmptyState>}
      {running && !result && (
        <div class="cfg-panel-state">
          <Spinner size="md" /> {t('config.compare.running')}
        </div>
      )}
      {result && (
        <div class="cmp-result">
          <p class="muted">{t('config.compare.summary', { onlyLeft: result.only_left.length, onlyRight: result.only_right.length, different: result.different.length, same: result.same })}</p>
          {SECTIONS.map((s) => (
            <CompareSection key={s} section={s} result={result} compare={compare} />
          ))}
        </div>
      )}
    </Modal>
  );
}
