// The causes under an error's message (the library's error chain), folded
// away until asked for: support wants them, a user rarely does.
import { useT } from '../i18n';

export function ErrorDetails({ details }: { details?: string[] }) {
  const t = useT();
  if (!details?.length) return null;
  return (
    <details class="error-details" data-testid="error-details">
      <summary>{t('common.details')}</summary>
      <ol>
        {details.map((d, i) => (
          <li key={i} class="mono">
            {d}
          </li>
        ))}
      </ol>
    </details>
  );
}
