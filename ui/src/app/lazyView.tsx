import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A view whose code is its own chunk, loaded the first time the view is shown
 * (the start-up bundle holds the shell and no workspace). Later visits render
 * it at once. A failed load is thrown in render, so the view's ErrorBoundary
 * shows it (its retry loads again).
 */
export function lazyView(load: () => Promise<ComponentType>): ComponentType {
  let loaded: ComponentType | null = null;
  let pending: Promise<ComponentType> | null = null;
  const get = () => {
    pending ??= load().then(
      (c) => (loaded = c),
      (e: unknown) => {
        pending = null;
        throw e;
      },
    );
    return pending;
  };
  return function LazyView() {
    const [, setReady] = useState(loaded !== null);
    const [error, setError] = useState<unknown>(null);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      get().then(
        () => live && setReady(true),
        (e: unknown) => live && setError(e ?? new Error('loading the view failed')),
      );
      return () => {
        live = false;
      };
    }, []);
    if (error) throw error;
    const View = loaded;
    return View ? <View /> : null;
  };
}
