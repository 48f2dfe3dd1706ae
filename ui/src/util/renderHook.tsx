// Test helpers (jsdom tests only): run a hook in a throwaway component and read
// what it returns; wait for an asynchronous condition.
import { render } from 'preact';
import { act } from 'preact/test-utils';

export function renderHook<P, R>(hook: (props: P) => R, initialProps: P) {
  const result = { current: undefined as R };
  const root = document.createElement('div');
  const Probe = ({ props }: { props: P }) => {
    result.current = hook(props);
    return null;
  };
  act(() => render(<Probe props={initialProps} />, root));
  return {
    result,
    rerender: (props: P) => act(() => render(<Probe props={props} />, root)),
    unmount: () => act(() => render(null, root)),
  };
}

/** Lets pending promises, renders and effects settle (a few rounds: an effect's call may answer after the round that ran it). */
export async function flush(rounds = 3) {
  for (let i = 0; i < rounds; i++) await act(async () => new Promise<void>((r) => setTimeout(r, 0)));
}

export { act };

export async function waitFor<T>(fn: () => T | null | undefined | false, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${fn.toString()}`);
    await act(async () => new Promise<void>((r) => setTimeout(r, 10)));
  }
}
