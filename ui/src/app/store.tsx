// App-wide state shared by the views: navigation, settings, saved connections.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, hasBackend, toAppError } from '../api/client';
import type { AppError, AppInfo, Connection, Kind, Settings, TestOutcome, UiSettings } from '../api/types';
import { applyLanguage, LangContext, t } from '../i18n';
import { useToast } from '../components/Toast';
import { applyTheme } from './theme';
import { type ViewName, viewFromHash } from './views';

// ---- navigation ---------------------------------------------------------

export interface NavIntent {
  /** Open the "add connection" form preset to this kind. */
  addKind?: Kind;
  nonce: number;
}

interface NavApi {
  view: ViewName;
  intent: NavIntent | null;
  navigate: (view: ViewName, intent?: Omit<NavIntent, 'nonce'>) => void;
  clearIntent: () => void;
}

const NavContext = createContext<NavApi>(null as unknown as NavApi);
export const useNav = () => useContext(NavContext);

// ---- settings -----------------------------------------------------------

export const DEFAULT_SETTINGS: UiSettings = { theme: 'system', language: 'en' };

/** The stored settings narrowed to what the UI offers (anything else: the default). */
export function uiSettings(s: Settings): UiSettings {
  const theme = s.theme === 'light' || s.theme === 'dark' || s.theme === 'system' ? s.theme : DEFAULT_SETTINGS.theme;
  const language = s.language === 'en' || s.language === 'zh-CN' ? s.language : DEFAULT_SETTINGS.language;
  return { theme, language };
}

interface SettingsApi {
  settings: UiSettings;
  update: (patch: Partial<UiSettings>) => Promise<void>;
  info: AppInfo | null;
  infoError: AppError | null;
  reloadInfo: () => void;
}

const SettingsContext = createContext<SettingsApi>(null as unknown as SettingsApi);
export const useSettings = () => useContext(SettingsContext);

// ---- connections --------------------------------------------------------

interface ConnectionsApi {
  /** null until the first load finished */
  list: Connection[] | null;
  error: AppError | null;
  loading: boolean;
  reload: () => Promise<void>;
  upsert: (c: Connection) => void;
  remove: (id: string) => void;
  setLastTest: (id: string, outcome: TestOutcome) => void;
}

const ConnectionsContext = createContext<ConnectionsApi>(null as unknown as ConnectionsApi);
export const useConnections = () => useContext(ConnectionsContext);

const byName = (a: Connection, b: Connection) => a.name.localeCompare(b.name);

// ---- provider -----------------------------------------------------------

export function AppStateProvider({ children }: { children: ComponentChildren }) {
  const toast = useToast();

  const [view, setView] = useState<ViewName>(() => viewFromHash(location.hash) ?? 'overview');
  const [intent, setIntent] = useState<NavIntent | null>(null);

  const navigate = useCallback((next: ViewName, withIntent?: Omit<NavIntent, 'nonce'>) => {
    setView(next);
    setIntent(withIntent ? { ...withIntent, nonce: Date.now() } : null);
    if (viewFromHash(location.hash) !== next) history.replaceState(null, '', `#/${next}`);
  }, []);
  const clearIntent = useCallback(() => setIntent(null), []);

  useEffect(() => {
    const onHash = () => {
      const v = viewFromHash(location.hash);
      if (v) setView(v);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // settings
  const [settings, setSettings] = useState<UiSettings>(DEFAULT_SETTINGS);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [infoError, setInfoError] = useState<AppError | null>(null);

  // `currentRef` is the latest value (also between two quick changes, before a
  // re-render); `seqRef` drops answers that a newer request has overtaken.
  const currentRef = useRef<UiSettings>(DEFAULT_SETTINGS);
  const seqRef = useRef(0);

  const applySettings = (s: UiSettings) => {
    currentRef.current = s;
    setSettings(s);
    applyTheme(s.theme);
    applyLanguage(s.language);
  };

  useEffect(() => {
    applySettings(DEFAULT_SETTINGS);
    if (!hasBackend()) return;
    const mine = ++seqRef.current;
    api.settingsGet().then(
      (s) => {
        if (mine === seqRef.current) applySettings(uiSettings(s));
      },
      (e) => {
        const err = toAppError(e);
        toast.push({ kind: 'error', title: t('settings.loadFailed'), detail: err.message });
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- loads the settings once, at start-up
  }, []);

  const update = useCallback(
    async (patch: Partial<UiSettings>) => {
      const previous = currentRef.current;
      const next = { ...previous, ...patch };
      applySettings(next); // instant feedback
      if (!hasBackend()) return;
      const mine = ++seqRef.current;
      try {
        const saved = await api.settingsSet(next);
        if (mine === seqRef.current) applySettings(uiSettings(saved));
      } catch (e) {
        if (mine === seqRef.current) applySettings(previous);
        toast.push({ kind: 'error', title: t('settings.saveFailed', { message: toAppError(e).message }) });
      }
    },
    [toast],
  );

  const reloadInfo = useCallback(() => {
    setInfoError(null);
    api.appInfo().then(setInfo, (e) => setInfoError(toAppError(e)));
  }, []);
  useEffect(reloadInfo, [reloadInfo]);

  // connections
  const [list, setList] = useState<Connection[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(false);

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setList(await api.connectionsList());
      setError(null);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  const upsert = useCallback((c: Connection) => {
    setList((l) => [...(l ?? []).filter((x) => x.id !== c.id), c].sort(byName));
  }, []);
  const remove = useCallback((id: string) => setList((l) => l && l.filter((x) => x.id !== id)), []);
  const setLastTest = useCallback((id: string, outcome: TestOutcome) => {
    setList((l) => l && l.map((x) => (x.id === id ? { ...x, last_test: outcome } : x)));
  }, []);

  const nav = useMemo(() => ({ view, intent, navigate, clearIntent }), [view, intent, navigate, clearIntent]);
  const settingsApi = useMemo(
    () => ({ settings, update, info, infoError, reloadInfo }),
    [settings, update, info, infoError, reloadInfo],
  );
  const connections = useMemo(
    () => ({ list, error, loading, reload, upsert, remove, setLastTest }),
    [list, error, loading, reload, upsert, remove, setLastTest],
  );

  return (
    <LangContext.Provider value={settings.language}>
      <SettingsContext.Provider value={settingsApi}>
        <NavContext.Provider value={nav}>
          <ConnectionsContext.Provider value={connections}>{children}</ConnectionsContext.Provider>
        </NavContext.Provider>
      </SettingsContext.Provider>
    </LangContext.Provider>
  );
}
