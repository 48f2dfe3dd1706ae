// Scanning every running container (or every image) of a Docker engine: the
// task and its progress while it runs, a toast with the outcome; leaving the
// view cancels it.
import { useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { ImageProgress } from '../../api/types';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { newTaskId } from './model';

interface Callbacks {
  /** The scan finished: its outcomes are in the history. */
  onScanned: () => void;
  /** The scan ended, finished or not. */
  onEnded: () => void;
}

export function useRunningScan(connId: string, { onScanned, onEnded }: Callbacks) {
  const t = useT();
  const toast = useToast();
  const [running, setRunning] = useState<{ task: string; progress: ImageProgress | null } | null>(null);

  // Leaving the view cancels a scan of all running containers.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- cancels the scan of the task that was running, once it ends or the view closes
  useEffect(() => () => void (running && api.imagesCancel(running.task).catch(() => {})), [running?.task]);

  /** `all`: every image of the engine (the Fleet's "Scan all"), else the running containers' images. */
  const start = async (all = false) => {
    const task = newTaskId();
    setRunning({ task, progress: null });
    try {
      const scan = all ? api.imagesScanAll : api.imagesScanRunning;
      const outcomes = await scan(connId, task, (p) => setRunning((r) => (r && r.task === task ? { task, progress: p } : r)));
      const blocked = outcomes.filter((o) => o.scan?.decision === 'BLOCK').length;
      const failed = outcomes.filter((o) => o.error).length;
      toast.push({ kind: failed ? 'error' : 'ok', title: t(all ? 'images.fleet.done' : 'images.running.done', { count: outcomes.length, blocked, failed }) });
      onScanned();
    } catch (e) {
      toast.push({ kind: 'error', title: toAppError(e).message });
    } finally {
      setRunning(null);
      onEnded();
    }
  };

  return { running, start };
}
