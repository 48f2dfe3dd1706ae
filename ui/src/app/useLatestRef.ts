// A ref that always holds the newest `value`: for callbacks that an effect or a
// listener set up once must call without re-subscribing. Updated after each
// render is committed (never during render), before any effect runs.
import { useLayoutEffect, useRef } from 'preact/hooks';

export function useLatestRef<T>(value: T) {
  const ref = useRef(value);
  useLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
