import { useEffect } from 'preact/hooks';
import { hasBackend, toAppError } from '../api/client';
import { Banner } from '../components/Banner';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { ToastProvider, useToast } from '../components/Toast';
import { useT } from '../i18n';
import { AuditView } from '../views/audit/AuditView';
import { ConfigView } from '../views/config/ConfigView';
import { ClustersView } from '../views/clusters/ClustersView';
import { ConnectionsView } from '../views/connections/ConnectionsView';
import { VmsView } from '../views/vms/VmsView';
import { ImagesView } from '../views/images/ImagesView';
import { SettingsView } from '../views/settings/SettingsView';
import { Sidebar } from './Sidebar';
import { AppStateProvider, useNav } from './store';
import { TopBar } from './TopBar';
import { viewForShortcut, type ViewName } from './views';

const EDITABLE = 'input, select, textarea, [contenteditable="true"]';

function CurrentView({ view }: { view: ViewName }) {
  switch (view) {
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
