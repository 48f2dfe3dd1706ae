// The types of the IPC contract are generated from the Rust types
// (bindings.ts, by src-tauri/src/contract.rs); this module re-exports them
// under the names the UI uses and adds the few that exist only in the UI.
import type { ConnectionSpec, ErrorCode, Settings, UiError, ValueFormat } from './bindings';

export type * from './bindings';

/** What every failing call rejects with (see client.ts): a known code, an English actionable message, and its causes. */
export type AppError = UiError & { details?: string[] };
export type { ErrorCode };

/** The platform of a connection. */
export type Kind = ConnectionSpec['kind'];
export const KINDS: readonly Kind[] = ['vsphere', 'docker', 'kubernetes', 'etcd'];

/** The audit's platform column: a connection kind, or the app itself. */
export type AuditPlatform = Kind | 'app';
export type AuditResult = 'ok' | 'error';

/** The settings the backend stores as text, narrowed to the values the UI offers. */
export type ThemeSetting = 'system' | 'light' | 'dark';
export type Language = 'en' | 'zh-CN';
export type UiSettings = Settings & { theme: ThemeSetting; language: Language };

export const EDITABLE_FORMATS: readonly ValueFormat[] = ['json', 'yaml', 'toml', 'plain'];
