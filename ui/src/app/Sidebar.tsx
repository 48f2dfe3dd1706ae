import type { Kind } from '../api/types';
import { Icon, type IconName } from '../components/Icon';
import { useT } from '../i18n';
import { useConnections, useNav, useSettings } from './store';
import { VIEWS, WORKSPACE_KIND, type ViewName } from './views';

const ICONS: Record<ViewName, IconName> = {
  overview: 'home',
  vms: 'vms',
  images: 'images',
  clusters: 'clusters',
  config: 'config',
  connections: 'connections',
  audit: 'audit',
  notifications: 'bell',
  settings: 'settings',
};

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function Sidebar() {
  const t = useT();
  const { view, navigate } = useNav();
  const { list } = useConnections();
  const { info } = useSettings();

  const count = (kind: Kind) => list?.filter((c) => c.spec.kind === kind).length ?? 0;

  const item = (name: ViewName) => {
    const n = VIEWS.indexOf(name);
    const kind = (WORKSPACE_KIND as Partial<Record<ViewName, Kind>>)[name];
    const shortcut = isMac ? `⌘${n}` : t('nav.shortcut', { n });
    return (
      <li key={name}>
        <a
          href={`#/${name}`}
          class={`nav-item${view === name ? ' nav-item-active' : ''}`}
          aria-current={view === name ? 'page' : undefined}
          data-testid={`nav-${name}`}
          title={`${t(`nav.${name}`)} (${shortcut})`}
          onClick={(e) => {
            e.preventDefault();
            navigate(name);
          }}
        >
          <Icon name={ICONS[name]} class="nav-icon" />
          <span class="nav-label">{t(`nav.${name}`)}</span>
          {kind && list && count(kind) > 0 && <span class="nav-count">{count(kind)}</span>}
          {name === 'connections' && list && list.length > 0 && <span class="nav-count">{list.length}</span>}
          <kbd class="nav-kbd">{shortcut}</kbd>
        </a>
      </li>
    );
  };

  return (
    <nav class="sidebar" aria-label="Opsdeck">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">
          <Icon name="plug" size={16} />
        </span>
        <span class="brand-text">
          <span class="brand-name">{t('app.name')}</span>
          <span class="brand-tagline">{t('app.tagline')}</span>
        </span>
      </div>
      <ul class="nav-list">{item('overview')}</ul>
      <div class="nav-section">{t('nav.workspaces')}</div>
      <ul class="nav-list">{(['vms', 'images', 'clusters', 'config'] as const).map(item)}</ul>
      <div class="nav-section">{t('nav.manage')}</div>
      <ul class="nav-list">{(['connections', 'audit', 'notifications', 'settings'] as const).map(item)}</ul>
      <div class="sidebar-footer">{info ? `v${info.version}` : ''}</div>
    </nav>
  );
}
