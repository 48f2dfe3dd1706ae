// The value editor: a <textarea> with a line-number gutter (no editor library;
// CSP friendly); Tab indents.
import { useMemo, useRef } from 'preact/hooks';

const GUTTER_SPANS_MAX = 5000;

/** A <textarea> with a line-number gutter (no editor library; CSP friendly). */
export function CodeEditor({
  value,
  onInput,
  readOnly,
  errorLine,
  label,
  testid,
}: {
  value: string;
  onInput?: (v: string) => void;
  readOnly?: boolean;
  errorLine?: number | null;
  label: string;
  testid?: string;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = useMemo(() => {
    let n = 1;
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) === 10) n++;
    return n;
  }, [value]);
  const numbers =
    lines <= GUTTER_SPANS_MAX
      ? Array.from({ length: lines }, (_, i) => (
          <span key={i} class={errorLine === i + 1 ? 'gutter-line gutter-error' : 'gutter-line'}>
            {i + 1}
          </span>
        ))
      : Array.from({ length: lines }, (_, i) => i + 1).join('\n');
  return (
    <div class={`code-editor${readOnly ? ' code-editor-readonly' : ''}`}>
      <div class="code-gutter" ref={gutter} aria-hidden="true">
        {numbers}
      </div>
      <textarea
        class="code-input"
        value={value}
        readOnly={readOnly}
        spellcheck={false}
        autocomplete="off"
        autocapitalize="off"
        wrap="off"
        aria-label={label}
        data-testid={testid}
        onInput={(e) => onInput?.((e.currentTarget as HTMLTextAreaElement).value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = (e.currentTarget as HTMLTextAreaElement).scrollTop;
        }}
        onKeyDown={(e) => {
          // Tab indents (two spaces) instead of leaving the editor; Esc then Tab still leaves.
          if (e.key === 'Tab' && !e.shiftKey && !readOnly && !e.ctrlKey && !e.metaKey) {
            const ta = e.currentTarget as HTMLTextAreaElement;
            e.preventDefault();
            const { selectionStart: a, selectionEnd: b } = ta;
            const next = `${ta.value.slice(0, a)}  ${ta.value.slice(b)}`;
            ta.value = next;
            ta.selectionStart = ta.selectionEnd = a + 2;
            onInput?.(next);
          }
        }}
      />
    </div>
  );
}
