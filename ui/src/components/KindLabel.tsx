import type { AuditPlatform } from '../api/types';
import { useT } from '../i18n';

/** A small colored tag naming a platform kind. */
export function KindLabel({ kind }: { kind: AuditPlatform }) {
  const t = useT();
  return <span class={`kind kind-${kind}`}>{t(`kind.${kind}`)}</span>;
}
