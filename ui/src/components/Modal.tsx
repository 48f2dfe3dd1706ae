import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useLatestRef } from '../app/useLatestRef';
import { useT } from '../i18n';
import { Icon } from './Icon';

interface Props {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
  /** "dialog": centered; "drawer": full-height panel on the right (forms). */
  variant?: 'dialog' | 'drawer';
  /** Clicking the backdrop closes ("dialog" only by default: a drawer may hold unsaved input). */
  closeOnBackdrop?: boolean;
  testid?: string;
  /** CSS selector of the element to focus first, inside the modal. */
  initialFocus?: string;
  /** Renders the body as a <form> with this submit handler. */
  onSubmit?: () => void;
  /** Width of a "dialog": md (default, forms), lg (diffs), xl (side-by-side work). */
  size?: 'md' | 'lg' | 'xl';
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

let titleSeq = 0;

export function Modal({
  title,
  onClose,
  children,
  footer,
  variant = 'dialog',
  closeOnBackdrop,
  testid,
  initialFocus,
  onSubmit,
  size = 'md',
}: Props) {
  const t = useT();
  const panel = useRef<HTMLDivElement>(null);
  const titleId = useRef(`modal-title-${++titleSeq}`).current;
  const onCloseRef = useLatestRef(onClose);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const el = panel.current;
    const first =
      (initialFocus && el?.querySelector<HTMLElement>(initialFocus)) || el?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? el)?.focus();
    document.body.classList.add('modal-open');
    // Esc still closes when focus fell out of the panel (e.g. onto <body> after
    // the focused button became disabled while busy).
    const onDocKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      const active = document.activeElement;
      if (!active || active === document.body) onCloseRef.current();
    };
    document.addEventListener('keydown', onDocKey);
    return () => {
      document.removeEventListener('keydown', onDocKey);
      document.body.classList.remove('modal-open');
      if (previous && document.contains(previous)) previous.focus();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- focus and listeners are set up once, when the dialog opens
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onCloseRef.current();
      return;
    }
    if (e.key === 'Tab' && panel.current) {
      const items = [...panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null);
      if (items.length === 0) return;
      const firstEl = items[0];
      const lastEl = items[items.length - 1];
      if (e.shiftKey && document.activeElement === firstEl) {
        e.preventDefault();
        lastEl.focus();
      } else if (!e.shiftKey && document.activeElement === lastEl) {
        e.preventDefault();
        firstEl.focus();
      }
    }
  };

  const backdropCloses = closeOnBackdrop ?? variant === 'dialog';
  const body = (
    <>
      <div class="modal-body">{children}</div>
      {footer && <div class="modal-footer">{footer}</div>}
    </>
  );

  return (
    <div
      class={`modal-backdrop modal-${variant} modal-size-${size}`}
      onMouseDown={(e) => {
        if (backdropCloses && e.target === e.currentTarget) onClose();
      }}
    >
      <div
        ref={panel}
        class="modal-panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={testid}
      >
        <div class="modal-header">
          <h2 id={titleId} class="modal-title">
            {title}
          </h2>
          <button type="button" class="btn btn-icon btn-ghost" onClick={onClose} aria-label={t('common.close')} title={t('common.close')} data-testid="modal-close">
            <Icon name="close" />
          </button>
        </div>
        {onSubmit ? (
          <form
            class="modal-form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              onSubmit();
            }}
          >
            {body}
          </form>
        ) : (
          body
        )}
      </div>
    </div>
  );
}
