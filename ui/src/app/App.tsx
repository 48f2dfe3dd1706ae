import { useEffect } from 'preact/hooks';
import { hasBackend, toAppError } from '../api/client';
import { Banner } from '../components/Banner';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { ToastProvider, useToast } from '../components/Toast';
import { useT } from '../i18n';
import { lazyView } from './lazyView';
import { Sidebar } from './Sidebar';
import { AppStateProvider, useNav } from './store';
import { TopBar } from './TopBar';
import { viewForShortcut, type ViewName } from './views';

// Each view is its own chunk, loaded when first shown: start-up parses the
// shell only (BENCHMARKS.md, "The app itself").
const OverviewView = lazyView(() => import('../views/overview/OverviewView').then((m) => m.OverviewView));
const VmsView = lazyView(() => import('../views/vms/VmsView').then((m) => m.VmsView));
const ImagesView = lazyView(() => import('../views/images/ImagesView').then((m) => m.ImagesView));
const ClustersView = lazyView(() => import('../views/clusters/ClustersView').then((m) => m.ClustersView));
const ConfigView = lazyView(() => import('../views/config/ConfigView').then((m) => m.ConfigView));
const ConnectionsView = lazyView(() => import('../views/connections/ConnectionsView').then((m) => m.ConnectionsView));
const AuditView = lazyView(() => import('../views/audit/AuditView').then((m) => m.AuditView));
const NotifyView = lazyView(() => import('../views/notify/NotifyView').then((m) => m.NotifyView));
const SettingsView = lazyView(() => import('../views/settings/SettingsView').then((m) => m.SettingsView));

const EDITABLE = 'input, select, textarea, [contenteditable="true"]';

function CurrentView({ view }: { view: ViewName }) {
  switch (view) {
    case 'overview':
      return <OverviewView />;
    case 'vms':
      return <VmsView />;
    case 'clusters':
      return <ClustersView />;
    case 'images':
      return <ImagesView />;
    case 'config':
      return <ConfigView />;
    case 'connections':
      return <ConnectionsView />;
    case 'audit':
      return <AuditView />;
    case 'notifications':
      return <NotifyView />;
    case 'settings':
      return <SettingsView />;
  }
}

function Shell({ mock }: { mock: boolean }) {
  const t = useT();
  const { view, navigate } = useNav();
  const toast = useToast();
  const backend = hasBackend();

  // Last resort: an unexpected rejection still tells the user what happened.
  useEffect(() => {
    const onRejection = (e: PromiseRejectionEvent) => {
      const err = toAppError(e.reason);
      toast.push({ kind: 'error', title: err.message });
    };
    window.addEventListener('unhandledrejection', onRejection);
    return () => window.removeEventListener('unhandledrejection', onRejection);
  }, [toast]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = viewForShortcut(e);
      if (target) {
        e.preventDefault();
        navigate(target);
        return;
      }
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey) {
        const active = document.activeElement as HTMLElement | null;
        if (active?.closest(EDITABLE) || document.body.classList.contains('modal-open')) return;
        const filter = document.querySelector<HTMLInputElement>('[data-testid^="view-"] [data-role="table-filter"]');
        if (filter) {
          e.preventDefault();
          filter.focus();
          filter.select();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  return (
    <div class="shell">
      <Sidebar />
      <div class="main">
        <TopBar mock={mock} />
        {!backend && (
          <Banner kind="warn" title={t('app.backendMissing')} testid="backend-missing">
            {t('app.backendMissingDetail')}
          </Banner>
        )}
        <main class="content" aria-labelledby="view-title">
          <ErrorBoundary resetKey={view}>
            <CurrentView view={view} />
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}

export function App({ mock = false }: { mock?: boolean }) {
  return (
    <ToastProvider>
      <AppStateProvider>
        <Shell mock={mock} />
      </AppStateProvider>
    </ToastProvider>
  );
}
