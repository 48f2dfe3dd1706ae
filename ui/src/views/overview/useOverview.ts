// The Overview's data: every tile from the backend's cache at once
// (overviewCached: SQLite only, instant and offline), then each tile read
// live on its own (overviewTile, with the backend's deadline). Leaving the
// Overview cancels the live reads still running (overviewCancel).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, Overview, TileName, TileUpdate } from '../../api/types';

export const TILES: readonly TileName[] = ['vms', 'clusters', 'images', 'config', 'activity'];

let runs = 0;

/** Applies one live tile to the overview. */
export function applyTile(o: Overview, u: TileUpdate): Overview {
  const { tile, ...body } = u;
  return { ...o, [tile]: body };
}

export function useOverview() {
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [pending, setPending] = useState<ReadonlySet<TileName>>(new Set());
  const [tileErrors, setTileErrors] = useState<Partial<Record<TileName, string>>>({});
  const [nonce, setNonce] = useState(0);
  const reload = useCallback(() => setNonce((n) => n + 1), []);

  useEffect(() => {
    const run = ++runs;
    let live = true;
    const done = (tile: TileName) =>
      setPending((p) => {
        const next = new Set(p);
        next.delete(tile);
        return next;
      });
    api.overviewCached().then(
      (o) => {
        if (!live) return;
        setData(o);
        setError(null);
        setTileErrors({});
        setPending(new Set(TILES));
        for (const tile of TILES) {
          api.overviewTile(tile, run).then(
            (u) => {
              if (!live) return;
              setData((d) => (d ? applyTile(d, u) : d));
              done(tile);
            },
            (e) => {
              if (!live) return;
              const err = toAppError(e);
              if (err.code !== 'cancelled') setTileErrors((m) => ({ ...m, [tile]: err.message }));
              done(tile);
            },
          );
        }
      },
      (e) => live && setError(toAppError(e)),
    );
    return () => {
      live = false;
      api.overviewCancel(run).catch(() => undefined);
    };
  }, [nonce]);

  return { data, error, pending, tileErrors, reload };
}
