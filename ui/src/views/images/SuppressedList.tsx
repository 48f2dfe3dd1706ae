// Suppressed findings of a report, and the suppressions that expired: each
// with its finding, package and severity, the reason, the author, until when
// (or that it expired), and its scope (which package and images it covers).
// Live ones do not count for the gate; expired ones count again and are open.
import type { SuppressedFinding } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { useT } from '../../i18n';
import { severityBadge } from './model';

export function SuppressedList({ kind, list }: { kind: 'suppressed' | 'expired'; list: SuppressedFinding[] }) {
  const t = useT();
  if (list.length === 0) return null;
  const expired = kind === 'expired';
  return (
    <details class={`img-suppressed${expired ? ' img-suppressed-expired' : ''}`} data-testid={`scan-${kind}`} open>
      <summary>
        {t(`images.report.${kind}`, { count: list.length })} <span class="muted">— {t(`images.suppressions.hint.${kind}`)}</span>
      </summary>
      <table class="img-suppressed-table">
        <thead>
          <tr>
            {(['finding', 'package', 'severity', 'reason', 'author', 'until', 'scope'] as const).map((c) => (
              <th key={c} scope="col">
                {t(`images.suppressions.col.${c}`)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {list.map(({ vulnerability: v, suppression: s }) => (
            <tr key={`${s.id}/${v.package}/${v.ids[0]}`} data-testid={`scan-${kind}-row`} data-id={s.id}>
              <td class="mono">{v.ids.find((i) => i.startsWith('CVE-')) ?? v.ids[0]}</td>
              <td class="mono">
                {v.package} {v.installed}
              </td>
              <td>
                <StatusBadge state={severityBadge(v.severity)}>{v.severity === 'UNKNOWN' ? v.severity : t(`images.sev.${v.severity}`)}</StatusBadge>
              </td>
              <td>{s.reason}</td>
              <td>{s.author}</td>
              <td class={expired ? 'img-suppressed-gone' : undefined} data-testid="suppression-until">
                {!s.expires ? t('images.suppressions.noExpiry') : expired ? t('images.suppressions.expiredOn', { date: s.expires }) : t('images.suppressions.until', { date: s.expires })}
              </td>
              <td data-testid="suppression-scope">
                {[s.package ? t('images.suppressions.scopePackage', { package: s.package }) : null, s.image ? t('images.suppressions.scopeImage', { image: s.image }) : t('images.suppressions.scopeAnyImage')]
                  .filter(Boolean)
                  .join(' · ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
