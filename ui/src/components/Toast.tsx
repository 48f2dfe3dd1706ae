// Toast notifications: a context to push them and the live region that shows them.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useT } from '../i18n';
import { Icon } from './Icon';

export type ToastKind = 'ok' | 'error' | 'info';

export interface ToastInput {
  kind: ToastKind;
  title: string;
  detail?: string;
  /** ms; default 4 s (ok/info) or 8 s (error) */
  timeout?: number;
}

interface ToastItem extends ToastInput {
  id: number;
}

interface ToastApi {
  push: (toast: ToastInput) => void;
}

const ToastContext = createContext<ToastApi>({ push: () => {} });

export function useToast(): ToastApi {
  return useContext(ToastContext);
}

let seq = 0;

export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    setItems((list) => list.filter((x) => x.id !== id));
    const timer = timers.current.get(id);
    if (timer) clearTimeout(timer);
    timers.current.delete(id);
  }, []);

  const push = useCallback(
    (toast: ToastInput) => {
      const id = ++seq;
      setItems((list) => [...list.slice(-4), { ...toast, id }]);
      const ms = toast.timeout ?? (toast.kind === 'error' ? 8000 : 4000);
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), ms),
      );
    },
    [dismiss],
  );

  useEffect(() => () => timers.current.forEach(clearTimeout), []);

  const api = useMemo(() => ({ push }), [push]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <ToastArea items={items} onDismiss={dismiss} />
    </ToastContext.Provider>
  );
}

function ToastArea({ items, onDismiss }: { items: ToastItem[]; onDismiss: (id: number) => void }) {
  const t = useT();
  return (
    <div class="toasts" aria-live="polite" aria-relevant="additions">
      {items.map((item) => (
        <div key={item.id} class={`toast toast-${item.kind}`} role={item.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <Icon name={item.kind === 'ok' ? 'check' : item.kind === 'error' ? 'alert' : 'info'} class="toast-icon" />
          <div class="toast-text">
            <div class="toast-title">{item.title}</div>
            {item.detail && <div class="toast-detail">{item.detail}</div>}
          </div>
          <button
            type="button"
            class="btn btn-icon btn-ghost toast-close"
            onClick={() => onDismiss(item.id)}
            aria-label={t('common.dismiss')}
          >
            <Icon name="close" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
