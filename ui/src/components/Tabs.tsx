// A row of tabs (role="tablist"): one button per key, the selected one
// marked; each button's data-testid is `${testid}-${key}`.
import type { ComponentChildren } from 'preact';

interface Props<K extends string> {
  tabs: readonly K[];
  value: K;
  onChange: (key: K) => void;
  /** What a tab shows (its label, a count). */
  label: (key: K) => ComponentChildren;
  testid: string;
}

export function Tabs<K extends string>({ tabs, value, onChange, label, testid }: Props<K>) {
  return (
    <div class="cfg-tabs" role="tablist">
      {tabs.map((k) => (
        <button key={k} type="button" role="tab" aria-selected={value === k} class={`cfg-tab${value === k ? ' cfg-tab-active' : ''}`} onClick={() => onChange(k)} data-testid={`${testid}-${k}`}>
          {label(k)}
        </button>
      ))}
    </div>
  );
}
