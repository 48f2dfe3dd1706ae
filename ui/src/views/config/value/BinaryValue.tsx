// A binary value (not UTF-8 text), read-only: base64 or a hex dump. Neither
// text is ever saved as the value (the backend writes binary values as bytes:
// rollback, copy, import).
import { useMemo, useState } from 'preact/hooks';
import { Icon } from '../../../components/Icon';
import { useT } from '../../../i18n';
import { CodeEditor } from '../CodeEditor';
import { hexDump } from './hex';

export function BinaryValue({ base64, size }: { base64: string; size: number }) {
  const t = useT();
  const [view, setView] = useState<'base64' | 'hex'>('hex');
  const text = useMemo(() => (view === 'hex' ? hexDump(base64) : base64), [view, base64]);
  return (
    <div class="cfg-binary">
      <div class="banner banner-info" role="status">
        <Icon name="info" class="banner-icon" />
        <strong class="banner-title">{t('config.value.binaryTitle')}</strong>
        <span class="banner-body">{t('config.value.binaryBody', { n: size.toLocaleString() })}</span>
      </div>
      <div class="cfg-editor-bar" role="group" aria-label={t('config.value.binaryView')}>
        {(['hex', 'base64'] as const).map((v) => (
          <button key={v} type="button" class={`btn btn-sm${view === v ? ' btn-primary' : ''}`} aria-pressed={view === v} onClick={() => setView(v)} data-testid={`config-binary-${v}`}>
            {t(`config.value.binaryAs.${v}`)}
          </button>
        ))}
      </div>
      <CodeEditor value={text} readOnly label={t('config.value.editorLabel')} testid="config-editor" />
    </div>
  );
}
