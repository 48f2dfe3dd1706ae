// Scanning one image: progress while Docker streams the layers, then the
// report. Closing the drawer (or leaving the view) cancels a running scan.
import { useEffect, useState } from 'preact/hooks';
import { useLatestRef } from '../../app/useLatestRef';
import { api, toAppError } from '../../api/client';
import type { AppError } from '../../api/types';
import type { ScanProgress, ScanReport } from '../../api/types';
import { ErrorState } from '../../components/ErrorState';
import { Modal } from '../../components/Modal';
import { useT } from '../../i18n';
import { formatSize, newTaskId, progressPercent, widthRef } from './model';
import { ReportView } from './ReportView';

interface Props {
  /** The Docker connection ('' when there is none: a stored report is shown, not scanned again). */
  connId: string;
  image: string;
  /** A stored report to show instead of scanning. */
  stored?: { id: number; report: ScanReport };
  onClose: () => void;
  onScanned: () => void;
  /** Scans from elsewhere than the engine (a registry connection's tag); default: the engine's `image`. */
  run?: (task: string, onProgress: (p: ScanProgress) => void) => Promise<{ id: number; report: ScanReport }>;
}

export function ScanDrawer({ connId, image, stored, onClose, onScanned, run }: Props) {
  const t = useT();
  const [progress, setProgress] = useState<ScanProgress | null>(null);
  const [result, setResult] = useState<{ id: number; report: ScanReport } | null>(stored ?? null);
  const [error, setError] = useState<AppError | null>(null);
  const [nonce, setNonce] = useState(0);
  const onScannedRef = useLatestRef(onScanned);
  const runRef = useLatestRef(run);

  useEffect(() => {
    if (stored && nonce === 0) return;
    const task = newTaskId();
    let live = true;
    setResult(null);
    setError(null);
    setProgress({ stage: 'inspecting' });
    const onProgress = (p: ScanProgress) => live && setProgress(p);
    const scan = runRef.current ? runRef.current(task, onProgress) : api.imagesScan(connId, image, task, onProgress);
    scan.then(
      (r) => {
        if (!live) return;
        setResult(r);
        onScannedRef.current();
      },
      (e) => live && setError(toAppError(e)),
    );
    return () => {
      live = false;
      void api.imagesCancel(task).catch(() => {});
    };
  }, [connId, image, nonce, stored, onScannedRef, runRef]);

  const pct = progressPercent(progress);
  const stage = progress?.stage ?? 'inspecting';
  return (
    <Modal variant="drawer" size="xl" title={t('images.scan.title', { image })} onClose={onClose} testid="scan-drawer" closeOnBackdrop>
      {result ? (
        <>
          {(connId || run) && (
            <div class="img-drawer-actions">
              <button type="button" class="btn btn-sm" onClick={() => setNonce((n) => n + 1)} data-testid="scan-again">
                {t('images.scan.again')}
              </button>
            </div>
          )}
          <ReportView report={result.report} scanId={result.id} />
        </>
      ) : error ? (
        <ErrorState error={error} title={t('images.scan.failed')} onRetry={() => setNonce((n) => n + 1)} />
      ) : (
        <div class="img-progress" data-testid="scan-progress" data-stage={stage}>
          <div class="img-progress-label">
            {stage === 'reading' && progress?.stage === 'reading'
              ? t('images.scan.reading', {
                  bytes: formatSize(progress.bytes),
                  total: formatSize(progress.total),
                  layers: progress.layers_to_read,
                  cached: progress.layers_cached,
                })
              : stage === 'matching' && progress?.stage === 'matching'
                ? t('images.scan.matching', { count: progress.packages })
                : t(`images.scan.stage.${stage}`)}
          </div>
          <div class="img-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined}>
            <div class={`img-bar-fill${pct === null ? ' img-bar-indeterminate' : ''}`} data-pct={pct ?? ''} ref={widthRef(pct ?? 30)} />
          </div>
          <p class="muted">{t('images.scan.cancelHint')}</p>
        </div>
      )}
    </Modal>
  );
}
