// Thin typed wrapper over Tauri's `invoke`. Every rejection becomes an AppError.
import { invoke } from '@tauri-apps/api/core';
import type {
  AppError,
  AppInfo,
  AuditFilter,
  AuditPage,
  CommandName,
  Commands,
  Connection,
  ConnectionInput,
  ErrorCode,
  Settings,
  TestOutcome,
} from './types';

const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_input',
  'not_found',
  'unreachable',
  'auth',
  'forbidden',
  'tls',
  'timeout',
  'keychain',
  'storage',
  'unsupported',
  'internal',
];

export const BACKEND_MISSING_MESSAGE = 'Backend not available — run inside the Opsdeck app';

/** True when the page runs inside the Tauri webview (or under the dev mock). */
export function hasBackend(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as AppError).message === 'string' &&
    typeof (e as AppError).code === 'string'
  );
}

/** Normalises whatever `invoke` rejected with (AppError object, string, Error) to an AppError. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) {
    const code = ERROR_CODES.includes(e.code) ? e.code : 'internal';
    return { code, message: e.message };
  }
  if (typeof e === 'string') return { code: 'internal', message: e };
  if (e instanceof Error) return { code: 'internal', message: e.message };
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return { code: 'internal', message: (e as { message: string }).message };
  }
  return { code: 'internal', message: String(e) };
}

export async function call<C extends CommandName>(
  cmd: C,
  ...args: Commands[C][0] extends undefined ? [] : [Commands[C][0]]
): Promise<Commands[C][1]> {
  if (!hasBackend()) {
    throw { code: 'unsupported', message: BACKEND_MISSING_MESSAGE } satisfies AppError;
  }
  try {
    return await invoke<Commands[C][1]>(cmd, args[0] ?? {});
  } catch (e) {
    throw toAppError(e);
  }
}

export const api = {
  appInfo: (): Promise<AppInfo> => call('app_info'),
  settingsGet: (): Promise<Settings> => call('settings_get'),
  settingsSet: (settings: Settings): Promise<Settings> => call('settings_set', { settings }),
  connectionsList: (): Promise<Connection[]> => call('connections_list'),
  connectionSave: (input: ConnectionInput): Promise<Connection> => call('connection_save', { input }),
  connectionDelete: (id: string): Promise<null> => call('connection_delete', { id }),
  connectionTest: (id: string): Promise<TestOutcome> => call('connection_test', { id }),
  kubeContexts: (path: string): Promise<string[]> => call('kube_contexts', { path }),
  vsphereThumbprint: (url: string): Promise<string> => call('vsphere_thumbprint', { url }),
  auditList: (filter: AuditFilter): Promise<AuditPage> => call('audit_list', { filter }),
};
export type Api = typeof api;
