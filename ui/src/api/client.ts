// The UI's client of the Rust backend. Every command and type comes from
// bindings.ts, generated from the Rust commands (src-tauri/src/contract.rs);
// this file only adds what a caller wants on top of them:
// - every rejection becomes an AppError (a known code and a message),
// - without the Tauri backend a call rejects instead of throwing a TypeError,
// - streaming commands take a callback and watches resolve to a stop function.
// A new Rust command is callable as `api.<camelCaseName>` with no edit here.
import { Channel } from '@tauri-apps/api/core';
import { commands, ERROR_CODES } from './bindings';
import type {
  AppError,
  ClusterHealth,
  ErrorCode,
  ImageProgress,
  MoveProgress,
  PromotePlan_Deserialize,
  PromoteProgress,
  PromoteReport_Deserialize,
  PromoteSelection_Deserialize,
  ProvisionProgress,
  ScanProgress,
  SearchEvent,
  SearchMode,
  VmEvent,
  VmEventBatch,
  WatchEvent,
} from './types';

export type Commands = typeof commands;
export type CommandName = keyof Commands;

export const BACKEND_MISSING_MESSAGE = 'Backend not available — run inside the Opsdeck app';

/** True when the page runs inside the Tauri webview (or under the dev mock). */
export function hasBackend(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export function isAppError(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && typeof (e as AppError).message === 'string' && typeof (e as AppError).code === 'string';
}

/** Normalises whatever a call rejected with (AppError object, string, Error) to an AppError. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) {
    const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(e.code) ? e.code : 'internal';
    return e.details === undefined ? { code, message: e.message } : { code, message: e.message, details: e.details };
  }
  if (typeof e === 'string') return { code: 'internal', message: e };
  if (e instanceof Error) return { code: 'internal', message: e.message };
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return { code: 'internal', message: (e as { message: string }).message };
  }
  return { code: 'internal', message: String(e) };
}

/** Where calls go: the generated client, or (dev only) a mock of part of it. */
let backend: Partial<Commands> = commands;

/** A stand-in for some commands, typed by the generated client (dev/mock-backend.ts). */
export type MockCommands = { [K in CommandName]?: (...args: Parameters<Commands[K]>) => Awaited<ReturnType<Commands[K]>> };

/**
 * Dev only (`vite --mode mock`): answer calls from `mock`, each after `delay(name)` ms;
 * a command the mock lacks rejects as the real backend does for an unknown command.
 */
export function installMockBackend(mock: MockCommands, delay: (name: CommandName) => number): void {
  backend = Object.fromEntries(
    (Object.keys(commands) as CommandName[]).map((name) => [
      name,
      async (...args: unknown[]) => {
        await new Promise((r) => setTimeout(r, delay(name)));
        const f = mock[name] as ((...a: unknown[]) => unknown) | undefined;
        if (!f) throw `command ${name} not found`;
        return f(...args);
      },
    ]),
  ) as Partial<Commands>;
}

type Wrapped = { [K in CommandName]: Commands[K] };

function wrap<K extends CommandName>(name: K): Commands[K] {
  const call = async (...args: unknown[]) => {
    const f = backend[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (!hasBackend() || !f) {
      throw { code: 'unsupported', message: BACKEND_MISSING_MESSAGE } satisfies AppError;
    }
    try {
      return await f(...args);
    } catch (e) {
      throw toAppError(e);
    }
  };
  return call as unknown as Commands[K];
}

/** Every generated command, with rejections normalised to AppError. */
export const calls: Wrapped = Object.fromEntries((Object.keys(commands) as CommandName[]).map((name) => [name, wrap(name)])) as Wrapped;

/** A stop function for a watch: silences its channel, then unwatches; safe to call twice. */
function stopper<T>(channel: Channel<T>, unwatch: () => Promise<null>): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    channel.onmessage = () => {};
    await unwatch();
  };
}

export const api = {
  ...calls,
  /**
   * Starts a watch on `prefix`; events arrive on `onEvent`. Resolves to a
   * function that stops it (config_unwatch). Call it when the prefix changes or
   * the view unmounts; stop is safe to call more than once.
   */
  configWatch: async (connectionId: string, prefix: string, onEvent: (e: WatchEvent) => void): Promise<() => Promise<void>> => {
    const channel = new Channel<WatchEvent>(onEvent);
    const watchId = await calls.configWatch(connectionId, prefix, channel);
    return stopper(channel, () => calls.configUnwatch(watchId));
  },
  /**
   * Searches key names and values under `prefix` (`mode`: as typed, or fuzzy); hits and progress arrive on
   * `onEvent`, ending with `done` or `error`. Resolves to a function that stops
   * the scan (config_value_search_stop).
   */
  configValueSearch: async (
    connectionId: string,
    prefix: string,
    text: string,
    mode: SearchMode,
    limit: number,
    onEvent: (e: SearchEvent) => void,
  ): Promise<() => Promise<void>> => {
    const channel = new Channel<SearchEvent>(onEvent);
    const searchId = await calls.configValueSearch(connectionId, prefix, text, mode, limit, channel);
    return stopper(channel, () => calls.configValueSearchStop(searchId));
  },
  /** Live health of a connection's clusters; resolves to a stop function (clusters_unwatch). */
  clustersWatch: async (connectionId: string, onEvent: (h: ClusterHealth) => void): Promise<() => Promise<void>> => {
    const channel = new Channel<ClusterHealth>(onEvent);
    const watchId = await calls.clustersWatch(connectionId, channel);
    return stopper(channel, () => calls.clustersUnwatch(watchId));
  },
  /** Live VM updates (WaitForUpdatesEx): `onEvents` gets one batch per vCenter update set (up to 100 VMs); resolves to a stop function (vms_unwatch). */
  vmsWatch: async (connectionId: string, onEvents: (batch: VmEvent[]) => void): Promise<() => Promise<void>> => {
    const channel = new Channel<VmEventBatch>((b) => onEvents(b.events));
    const watchId = await calls.vmsWatch(connectionId, channel);
    return stopper(channel, () => calls.vmsUnwatch(watchId));
  },
  /** Scans one image; progress arrives on `onProgress`; cancel with imagesCancel(task). */
  imagesScan: (connectionId: string, image: string, task: string, onProgress: (p: ScanProgress) => void) =>
    calls.imagesScan(connectionId, image, task, new Channel<ScanProgress>(onProgress)),
  imagesScanRunning: (connectionId: string, task: string, onProgress: (p: ImageProgress) => void) =>
    calls.imagesScanRunning(connectionId, task, new Channel<ImageProgress>(onProgress)),
  imagesScanAll: (connectionId: string, task: string, onProgress: (p: ImageProgress) => void) =>
    calls.imagesScanAll(connectionId, task, new Channel<ImageProgress>(onProgress)),
  /** Applies a reviewed promotion plan; progress after each committed batch arrives on `onProgress`. */
  configPromoteApply: (
    fromConnectionId: string,
    toConnectionId: string,
    plan: PromotePlan_Deserialize,
    selection: PromoteSelection_Deserialize,
    previous: PromoteReport_Deserialize | null,
    comment: string,
    onProgress: (p: PromoteProgress) => void,
  ) => calls.configPromoteApply(fromConnectionId, toConnectionId, plan, selection, previous, comment, new Channel<PromoteProgress>(onProgress)),
  /** Applies a prefix move plan; progress after each committed batch arrives on `onProgress`. */
  configMoveApply: (connectionId: string, plan: PromotePlan_Deserialize, overwrite: boolean, comment: string, onProgress: (p: MoveProgress) => void) =>
    calls.configMoveApply(connectionId, plan, overwrite, comment, new Channel<MoveProgress>(onProgress)),
  /** Provisions one request; each step's progress arrives on `onProgress`. */
  vmsProvision: (connectionId: string, id: string, onProgress: (p: ProvisionProgress) => void) =>
    calls.vmsProvision(connectionId, id, new Channel<ProvisionProgress>(onProgress)),
};
export type Api = typeof api;
