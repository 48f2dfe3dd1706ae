import { useT } from '../i18n';
import { useNav } from './store';

export function TopBar({ mock }: { mock: boolean }) {
  const t = useT();
  const { view } = useNav();
  return (
    <header class="topbar">
      <h1 class="topbar-title" id="view-title">
        {t(`view.${view}`)}
      </h1>
      <div class="topbar-end">{mock && <span class="pill pill-warn">{t('app.mockMode')}</span>}</div>
    </header>
  );
}
