// DEV ONLY. An in-memory fake etcd behind the config_* commands of the mock
// backend (dev/mock-backend.ts): revisions, history with compaction, leases,
// a 100,000-key directory (/bench/items/) for the virtualised tree, a watch
// that streams over the Tauri Channel, an external change every ~10 s and a
// guaranteed conflict when saving /app/prod/payments/config.json.
//
// Extra URL options: ?watchfail (etcd refuses the watch after 6 s),
// ?reconnect (an outage from 6 s to 10 s, then resumed), ?compact (the same
// outage, back with a gap: etcd compacted the history meanwhile).
import type {
  AppError,
  AuditEntry,
  DiffItem,
  History,
  ImportPlan,
  KeyMeta,
  KeyValue,
  TreeEntry,
  TreePage,
  Validation,
  ValueFormat,
  WatchEvent,
  WriteResult,
} from '../src/api/types';
import type { MockCommands } from '../src/api/client';

interface Kv {
  value: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease: number;
  binary?: boolean;
}
interface Rev {
  mod_revision: number;
  version: number;
  value: string | null;
}
interface Ctx {
  params: URLSearchParams;
  /** null when the id is not an etcd connection; throws for an unreachable one */
  check: (connectionId: string) => void;
  audit: (target: string, action: string, detail: string) => void;
  auditFor: (target: string) => AuditEntry[];
}

const err = (code: AppError['code'], message: string): AppError => ({ code, message });
const enc = new TextEncoder();

let revision = 0;
const store = new Map<string, Kv>();
let keys: string[] = []; // sorted
const history = new Map<string, Rev[]>(); // oldest first
let COMPACTED_AT = 0; // set by seed(): history before it is gone
const CONFLICT_KEY = '/app/prod/payments/config.json';
let conflictArmed = true;
const leaseExpiry = new Map<number, number>();

function lowerBound(key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function meta(key: string, kv: Kv): KeyMeta {
  return { key, create_revision: kv.create_revision, mod_revision: kv.mod_revision, version: kv.version, lease: kv.lease };
}

type Listener = (ev: WatchEvent) => void;
const watchers = new Map<number, { prefix: string; send: Listener }>();
let watchSeq = 0;

function emit(ev: WatchEvent & { key: string }) {
  for (const w of watchers.values()) if (ev.key.startsWith(w.prefix)) w.send(ev);
}

function put(key: string, value: string, lease = 0, quiet = false): Kv {
  revision++;
  const old = store.get(key);
  const kv: Kv = old
    ? { ...old, value, mod_revision: revision, version: old.version + 1, lease: lease || old.lease, binary: false }
    : { value, create_revision: revision, mod_revision: revision, version: 1, lease };
  if (!old) keys.splice(lowerBound(key), 0, key);
  store.set(key, kv);
  const h = history.get(key) ?? [];
  h.push({ mod_revision: revision, version: kv.version, value });
  if (h.length > 60) h.shift();
  history.set(key, h);
  if (!quiet) emit({ type: 'put', key, meta: meta(key, kv), value });
  return kv;
}

function del(key: string): number {
  revision++;
  store.delete(key);
  const i = lowerBound(key);
  if (keys[i] === key) keys.splice(i, 1);
  const h = history.get(key) ?? [];
  h.push({ mod_revision: revision, version: 0, value: null });
  history.set(key, h);
  emit({ type: 'delete', key, mod_revision: revision });
  return revision;
}

// ---- seed data ----------------------------------------------------------------

const SERVICES = ['api', 'auth', 'billing', 'checkout', 'gateway', 'inventory', 'media', 'notifications', 'payments', 'reports', 'scheduler', 'search'];

function seed() {
  for (const env of ['dev', 'prod']) {
    const prod = env === 'prod';
    put(`/app/${env}/db`, JSON.stringify({ pool: prod ? 50 : 10 }, null, 2), 0, true);
    put(`/app/${env}/feature`, prod ? 'off' : 'on', 0, true);
    SERVICES.forEach((svc, i) => {
      const base = `/app/${env}/${svc}/`;
      put(
        `${base}config.json`,
        JSON.stringify(
          {
            service: svc,
            listen: `0.0.0.0:${8080 + i}`,
            upstream: `http://${svc}.${env}.svc.cluster.local`,
            timeoutMs: prod ? 3000 : 10000,
            maxRetries: prod ? 3 : 5,
            tracing: { enabled: true, sampleRate: prod ? 0.05 : 1 },
          },
          null,
          2,
        ),
        0,
        true,
      );
      put(`${base}limits.yaml`, `cpu: ${prod ? '2' : '500m'}\nmemory: ${prod ? '4Gi' : '1Gi'}\nreplicas: ${prod ? 6 : 1}\nburst:\n  rps: ${prod ? 800 : 50}\n  window: 10s\n`, 0, true);
      put(`${base}features.toml`, `[flags]\nnew_checkout = ${prod ? 'false' : 'true'}\ndark_launch = false\n\n[rollout]\npercent = ${prod ? 5 : 100}\n`, 0, true);
      put(`${base}log-level`, prod ? 'info' : 'debug', 0, true);
      put(`${base}image`, `registry.corp.example/${svc}:1.${14 + (i % 5)}.${i}`, 0, true);
      put(`${base}owners`, `team-${svc}@corp.example`, 0, true);
      for (let s = 0; s < 3; s++) put(`${base}secrets-ref/${['db', 'cache', 'queue'][s]}`, `vault:kv/${env}/${svc}/${['db', 'cache', 'queue'][s]}`, 0, true);
      put(`${base}endpoints.json`, JSON.stringify([`${svc}-0.${env}.internal:${9000 + i}`, `${svc}-1.${env}.internal:${9000 + i}`]), 0, true);
    });
    for (let n = 0; n < 6; n++) put(`/app/${env}/sessions/worker-${n}`, JSON.stringify({ host: `node-${n}`, since: '2025-05-01T08:00:00Z' }), 7000 + n, true);
    put(`/app/${env}/locks/leader`, `scheduler-${prod ? 2 : 0}`, 7100, true);
    leaseExpiry.set(7100, Date.now() + 30_000);
  }
  // History: a few edits to the prod db and payments configs.
  put('/app/prod/db', JSON.stringify({ pool: 60 }, null, 2), 0, true);
  COMPACTED_AT = revision; // the first version of /app/prod/db is compacted away
  for (const pool of [80, 50]) put('/app/prod/db', JSON.stringify({ pool }, null, 2), 0, true);
  const pay = JSON.parse(store.get(CONFLICT_KEY)!.value);
  for (const t of [2500, 3500, 3000]) put(CONFLICT_KEY, JSON.stringify({ ...pay, timeoutMs: t }, null, 2), 0, true);
  // A binary value (not UTF-8): view only.
  put('/app/prod/tls/keystore.p12', 'MIIKPAIBAzCCCfYGCSqGSIb3DQEHAaCCCecEggnjMIIJ3zCCBZQGCSqGSIb3DQEHAaCCBYUEggWBMIIFfTCCBXkGCyqGSIb3DQEMCgECoIIE', 0, true);
  store.get('/app/prod/tls/keystore.p12')!.binary = true;
  // Oversized-ish YAML.
  put('/app/prod/gateway/routes.yaml', Array.from({ length: 120 }, (_, i) => `- path: /v1/r${i}\n  upstream: svc-${i % 12}\n  timeout: ${1 + (i % 7)}s`).join('\n') + '\n', 0, true);
  // 100,000 keys in one directory (built directly: already in key order).
  const base = revision;
  const bulk: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const key = `/bench/items/item-${String(i).padStart(6, '0')}`;
    bulk.push(key);
    store.set(key, { value: `{"id": ${i}, "shard": ${i % 16}}`, create_revision: base + 1, mod_revision: base + 1, version: 1, lease: 0 });
  }
  revision = base + 1;
  keys = [...keys.filter((k) => k < '/bench/'), ...bulk, ...keys.filter((k) => k >= '/bench/')];
  for (const k of ['/bench/README', '/bench/owner']) put(k, k.endsWith('README') ? 'Load-test fixtures: 100,000 keys under /bench/items/.' : 'perf-team', 0, true);
  revision = Math.max(revision, 480);
}
seed();

// ---- formats ---------------------------------------------------------------------

function posToLineCol(text: string, pos: number): [number, number] {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return [line, pos - before.lastIndexOf('\n')];
}

function validateAs(value: string, format: ValueFormat): Validation {
  const ok = (): Validation => ({ format, ok: true, error: null, line: null, column: null });
  const bad = (error: string, line: number | null, column: number | null): Validation => ({ format, ok: false, error, line, column });
  if (format === 'plain' || format === 'binary') return ok();
  if (format === 'json') {
    try {
      JSON.parse(value);
      return ok();
    } catch (e) {
      const msg = (e as Error).message;
      const lc = /line (\d+) column (\d+)/.exec(msg);
      if (lc) return bad(msg.replace(/\s*\(line \d+ column \d+\)/, ''), Number(lc[1]), Number(lc[2]));
      const p = /position (\d+)/.exec(msg);
      const [line, col] = p ? posToLineCol(value, Number(p[1])) : posToLineCol(value, value.length);
      return bad(msg, line, col);
    }
  }
  const lines = value.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.trim() || l.trim().startsWith('#')) continue;
    if (format === 'yaml') {
      if (/^\t/.test(l)) return bad('found a tab character where indentation is expected', i + 1, 1);
      if (!/^\s*(- |-$|[^:]+:( |$)|\S.*[^:]$)/.test(l) || (/^\s*[^-\s][^:]*$/.test(l) && i > 0 && !/:\s*[|>]/.test(lines[i - 1])))
        return bad('could not find expected \':\'', i + 1, l.length + 1);
      const q = (l.match(/"/g) ?? []).length;
      if (q % 2) return bad('found unexpected end of stream while scanning a quoted scalar', i + 1, l.indexOf('"') + 1);
    } else if (format === 'toml') {
      if (/^\s*\[[^\]]*\]\s*$/.test(l)) continue;
      const m = /^\s*[A-Za-z0-9_.-]+\s*=\s*(.+)$/.exec(l);
      if (!m) return bad('expected an equals, found a newline', i + 1, l.length + 1);
      const v = m[1].trim();
      if (/^"/.test(v) && !/^"[^"]*"$/.test(v)) return bad('invalid basic string: unterminated', i + 1, l.indexOf('"') + 1);
      if (!/^(".*"|'.*'|true|false|-?[\d_.]+|\[.*\]|\{.*\}|\d{4}-\d\d-\d\d.*)$/.test(v)) return bad(`invalid value: ${v}`, i + 1, l.indexOf(v) + 1);
    }
  }
  return ok();
}

function detect(value: string, binary = false): ValueFormat {
  if (binary) return 'binary';
  const v = value.trim();
  if ((v.startsWith('{') || v.startsWith('[')) && validateAs(value, 'json').ok) return 'json';
  if (/^\s*\[[\w.]+\]\s*$/m.test(value) || /^\s*\w+\s*=\s*\S/m.test(value)) return validateAs(value, 'toml').ok ? 'toml' : 'plain';
  if (value.includes('\n') && /^\s*(- |\w[\w.-]*:( |$))/m.test(value) && validateAs(value, 'yaml').ok) return 'yaml';
  return 'plain';
}

function keyValue(key: string): KeyValue | null {
  const kv = store.get(key);
  if (!kv) return null;
  const ttl = kv.lease ? Math.max(1, Math.round(((leaseExpiry.get(kv.lease) ?? Date.now() + 60_000) - Date.now()) / 1000) % 60 || 60) : null;
  return {
    meta: meta(key, kv),
    value: kv.value,
    format: detect(kv.value, kv.binary),
    size: kv.binary ? Math.floor((kv.value.length * 3) / 4) : enc.encode(kv.value).length,
    lease_ttl: ttl,
    revision,
  };
}

// ---- tree ------------------------------------------------------------------------

function tree(prefix: string, cursor: string | null, limit: number): TreePage {
  if (limit < 1 || limit > 1000) throw err('invalid_input', 'limit: 1..=1000');
  const entries: TreeEntry[] = [];
  // A first page read over the whole prefix counts its keys (as etcd does).
  const total = cursor === null ? under(prefix).length : null;
  let i = lowerBound(cursor ?? prefix);
  while (i < keys.length && keys[i].startsWith(prefix)) {
    const key = keys[i];
    const rel = key.slice(prefix.length);
    const slash = rel.indexOf('/');
    if (entries.length === limit) return { prefix, entries, next_cursor: key, revision, total };
    if (slash >= 0) {
      const dir = key.slice(0, prefix.length + slash + 1);
      entries.push({ name: rel.slice(0, slash), key: dir, is_dir: true, meta: null });
      i = lowerBound(prefixEnd(dir));
    } else {
      entries.push({ name: rel, key, is_dir: false, meta: meta(key, store.get(key)!) });
      i++;
    }
  }
  return { prefix, entries, next_cursor: null, revision, total };
}

function under(prefix: string): string[] {
  return keys.slice(lowerBound(prefix), lowerBound(prefixEnd(prefix)));
}

// ---- documents (export / import) -------------------------------------------

function exportDoc(prefix: string, format: 'json' | 'yaml'): string {
  const doc = { prefix, revision, exported_at: new Date().toISOString(), keys: Object.fromEntries(under(prefix).map((k) => [k.slice(prefix.length), store.get(k)!.value])) };
  if (format === 'json') return JSON.stringify(doc, null, 2) + '\n';
  const lines = [`prefix: ${JSON.stringify(prefix)}`, `revision: ${revision}`, `exported_at: ${JSON.stringify(doc.exported_at)}`, 'keys:'];
  for (const [rel, v] of Object.entries(doc.keys)) lines.push(`  ${JSON.stringify(rel)}: ${JSON.stringify(v)}`);
  return lines.join('\n') + '\n';
}

function parseDoc(document: string): Record<string, string> {
  const text = document.trim();
  if (!text) throw err('invalid_input', 'document: empty');
  if (text.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw err('invalid_input', `document: not valid JSON: ${(e as Error).message}`);
    }
    const k = (doc as { keys?: unknown }).keys;
    if (!k || typeof k !== 'object') throw err('invalid_input', 'document: expected an object with "keys": { rel: value }');
    return Object.fromEntries(Object.entries(k as Record<string, unknown>).map(([rel, v]) => [rel, typeof v === 'string' ? v : JSON.stringify(v, null, 2)]));
  }
  const out: Record<string, string> = {};
  let inKeys = false;
  for (const [n, line] of text.split('\n').entries()) {
    if (/^keys:\s*$/.test(line)) {
      inKeys = true;
      continue;
    }
    if (!inKeys || !line.trim()) continue;
    const m = /^\s+("(?:[^"\\]|\\.)*"|[^:]+):\s*(.*)$/.exec(line);
    if (!m) throw err('invalid_input', `document: YAML line ${n + 1}: expected "rel: value"`);
    const rel = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1].trim();
    out[rel] = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
  }
  if (!inKeys) throw err('invalid_input', 'document: no "keys:" section (expected an Opsdeck export)');
  return out;
}

function plan(prefix: string, document: string): ImportPlan & { values: Record<string, string> } {
  const values = parseDoc(document);
  const creates: string[] = [];
  const updates: string[] = [];
  let unchanged = 0;
  for (const [rel, v] of Object.entries(values)) {
    const kv = store.get(prefix + rel);
    if (!kv) creates.push(rel);
    else if (kv.value !== v) updates.push(rel);
    else unchanged++;
  }
  return { creates, updates, unchanged, total: creates.length + updates.length + unchanged, values };
}

// ---- commands --------------------------------------------------------------------

export function etcdHandlers(ctx: Ctx): MockCommands {
  const conflict = (key: string): WriteResult => ({ status: 'conflict', current: keyValue(key) });

  const guardedPut = (key: string, value: string, expected: number): WriteResult => {
    if (key === CONFLICT_KEY && conflictArmed && expected !== 0) {
      // Someone else saves first: the demo of the conflict view.
      conflictArmed = false;
      setTimeout(() => (conflictArmed = true), 60_000);
      const cur = JSON.parse(store.get(key)!.value);
      put(key, JSON.stringify({ ...cur, maxRetries: (cur.maxRetries ?? 3) + 1, note: 'hotfix by li.wei' }, null, 2));
    }
    const kv = store.get(key);
    if (expected === 0 ? kv : !kv || kv.mod_revision !== expected) return conflict(key);
    const written = put(key, value);
    return { status: 'written', meta: meta(key, written), revision };
  };

  // A few audit entries from earlier sessions.
  ctx.audit('/app/prod/db', 'config.put', 'raise the pool for the spring sale · mod_revision 0 → 80');
  ctx.audit(CONFLICT_KEY, 'config.put', 'timeouts back to 3 s after the incident INC-2291');
  return {
    configTree: (connectionId, prefix, cursor, limit) => (ctx.check(connectionId), tree(prefix, cursor, limit)),
    configCount: (connectionId, prefix) => (ctx.check(connectionId), under(prefix).length),
    configSearch: (connectionId, prefix, text, limit) => {
      ctx.check(connectionId);
      const needle = text.trim().toLowerCase();
      if (!needle) throw err('invalid_input', 'search: type part of a key');
      const out: TreeEntry[] = [];
      for (const key of under(prefix)) {
        if (key.slice(prefix.length).toLowerCase().includes(needle)) {
          out.push({ name: key.slice(key.lastIndexOf('/') + 1), key, is_dir: false, meta: meta(key, store.get(key)!) });
          if (out.length >= limit) break;
        }
      }
      return out;
    },
    configGet: (connectionId, key) => {
      ctx.check(connectionId);
      const kv = keyValue(key);
      if (!kv) throw err('not_found', `key ${key} not found (deleted or never created)`);
      return kv;
    },
    // One schema in the dev store: /app/prod/ wants an object with an owner.
    configSchemaFor: (connectionId, key) => {
      ctx.check(connectionId);
      if (!key.startsWith('/app/prod/')) return null;
      const document = '{"type":"object","required":["owner"]}';
      return { prefix: '/app/prod/', source: 'team store /opsdeck/config/schemas/2f6170702f70726f642f', revision: 1, invalid: null, document };
    },
    configValidate: (value, format) => validateAs(value, format ?? detect(value)),
    configPut: (connectionId, key, value, expectedModRevision, format, allowInvalid, comment) => {
      ctx.check(connectionId);
      if (key.includes('readonly')) throw err('forbidden', `etcd RBAC: user "opsdeck" has no write permission on ${key}`);
      if (enc.encode(value).length > 1_500_000) throw err('invalid_input', 'value: larger than the etcd request limit (1.5 MiB)');
      if (!allowInvalid) {
        const v = validateAs(value, format);
        if (!v.ok) throw err('invalid_input', `value is not valid ${format}: ${v.error} (line ${v.line}, column ${v.column})`);
      }
      const res = guardedPut(key, value, expectedModRevision);
      if (res.status === 'written') ctx.audit(key, 'config.put', `${comment ? `${comment} · ` : ''}mod_revision ${expectedModRevision} → ${res.meta.mod_revision}`);
      return res;
    },
    configDelete: (connectionId, key, expectedModRevision, comment) => {
      ctx.check(connectionId);
      const kv = store.get(key);
      if (!kv || kv.mod_revision !== expectedModRevision) return conflict(key);
      const rev = del(key);
      ctx.audit(key, 'config.delete', `${comment} · mod_revision ${kv.mod_revision} → deleted at ${rev}`);
      return { status: 'written', meta: { ...meta(key, kv), mod_revision: rev, version: 0 }, revision: rev };
    },
    configDeletePreview: (connectionId, prefix) => {
      ctx.check(connectionId);
      const all = under(prefix);
      return { count: all.length, sample: all.slice(0, 20) };
    },
    configDeletePrefix: (connectionId, prefix, expectedCount, comment) => {
      ctx.check(connectionId);
      const all = under(prefix);
      if (all.length !== expectedCount)
        throw err('invalid_input', `the number of keys under ${prefix} changed since the preview (${expectedCount} → ${all.length}): preview again`);
      for (const k of all) del(k);
      ctx.audit(prefix, 'config.delete_prefix', `${comment} · ${all.length} keys`);
      return { deleted: all.length };
    },
    configHistory: (connectionId, key, limitAsked): History => {
      ctx.check(connectionId);
      const limit = limitAsked || 50;
      const h = (history.get(key) ?? []).slice().reverse();
      const first = h[h.length - 1];
      const bulk = key.startsWith('/bench/items/');
      if (!h.length && !store.has(key)) throw err('not_found', `key ${key} has no history`);
      const visible = h.filter((e) => e.mod_revision >= COMPACTED_AT || e === h[0]);
      const compacted = bulk || (first && first.mod_revision < COMPACTED_AT && visible.length < h.length) ? COMPACTED_AT : null;
      const entries = (bulk ? [{ mod_revision: store.get(key)!.mod_revision, version: 1, value: store.get(key)!.value }] : visible).map((e) => ({
        ...e,
        format: e.value === null ? ('plain' as ValueFormat) : detect(e.value),
      }));
      return { key, entries: entries.slice(0, limit), compacted_at: compacted, truncated: entries.length > limit, audit: ctx.auditFor(key) };
    },
    configRollback: (connectionId, key, to, expectedModRevision, comment) => {
      ctx.check(connectionId);
      const target = (history.get(key) ?? []).find((e) => e.mod_revision === to);
      if (!target || target.value === null) throw err('not_found', `revision ${to} of ${key} is not in the history (compacted?)`);
      const res = guardedPut(key, target.value, expectedModRevision);
      if (res.status === 'written') ctx.audit(key, 'config.rollback', `${comment} · to revision ${to}`);
      return res;
    },
    configCompare: (connectionId, left, right) => {
      ctx.check(connectionId);
      if (!left.endsWith('/') || !right.endsWith('/')) throw err('invalid_input', 'prefixes must end with "/" (e.g. /app/dev/)');
      const L = new Map(under(left).map((k) => [k.slice(left.length), store.get(k)!]));
      const R = new Map(under(right).map((k) => [k.slice(right.length), store.get(k)!]));
      const item = (rel: string): DiffItem => ({
        rel,
        left: L.get(rel)?.value ?? null,
        right: R.get(rel)?.value ?? null,
        left_binary: L.get(rel)?.binary === true,
        right_binary: R.get(rel)?.binary === true,
        left_mod_revision: L.get(rel)?.mod_revision ?? 0,
        right_mod_revision: R.get(rel)?.mod_revision ?? 0,
      });
      const onlyLeft = [...L.keys()].filter((r) => !R.has(r)).map(item);
      const onlyRight = [...R.keys()].filter((r) => !L.has(r)).map(item);
      const both = [...L.keys()].filter((r) => R.has(r));
      const different = both.filter((r) => L.get(r)!.value !== R.get(r)!.value).map(item);
      return { left, right, only_left: onlyLeft, only_right: onlyRight, different, same: both.length - different.length };
    },
    configCopy: (connectionId, from, to, items, comment) => {
      ctx.check(connectionId);
      const rels = items.map((i) => i.rel);
      const conflicts = rels.filter((r) => !store.has(from + r));
      if (conflicts.length) return { copied: 0, conflicts };
      for (const r of rels) put(to + r, store.get(from + r)!.value);
      ctx.audit(to, 'config.copy', `${comment} · ${rels.length} keys from ${from}`);
      return { copied: rels.length, conflicts: [] };
    },
    configExport: (connectionId, prefix, format) => (ctx.check(connectionId), exportDoc(prefix, format)),
    configImportPreview: (connectionId, prefix, document) => {
      ctx.check(connectionId);
      const { values: _v, ...p } = plan(prefix, document);
      return p;
    },
    configImport: (connectionId, prefix, document, comment) => {
      ctx.check(connectionId);
      const p = plan(prefix, document);
      const todo = [...p.creates, ...p.updates];
      for (const rel of todo) put(prefix + rel, p.values[rel]);
      ctx.audit(prefix, 'config.import', `${comment} · ${todo.length} keys`);
      const { values: _v, ...planOut } = p;
      const committed = Array.from({ length: Math.ceil(todo.length / 128) }, (_, i) => {
        const keys = todo.slice(i * 128, (i + 1) * 128);
        return { index: i + 1, revision: 1000 + i, committed_at: new Date().toISOString(), adds: keys.length, changes: 0, removes: 0, keys };
      });
      return {
        applied: todo.length,
        batches: committed.length,
        plan: planOut,
        kind: 'opsdeck.config.import.report',
        prefix,
        connection: connectionId,
        document_sha256: '',
        committed,
        unknown: null,
        not_written: [],
        guards: {},
        conflicts: [],
        changed_since_commit: [],
        already_applied: 0,
        written_now: todo.length,
        interrupted: false,
        complete: true,
      };
    },
    configWatch: (connectionId, prefix, channel) => {
      ctx.check(connectionId);
      const id = ++watchSeq;
      const send: Listener = (ev) => channel.onmessage(ev);
      watchers.set(id, { prefix, send });
      if (ctx.params.has('watchfail')) {
        setTimeout(() => {
          if (!watchers.has(id)) return;
          send({ type: 'error', message: 'etcd refused the watch: permission denied (user "dev" on connection "prod-etcd")' });
          watchers.delete(id);
        }, 6000);
      }
      if (ctx.params.has('reconnect') || ctx.params.has('compact')) {
        // An outage after 6 s; after 10 s back, resumed or (?compact) with a gap.
        setTimeout(() => {
          if (!watchers.has(id)) return;
          send({ type: 'reconnecting', attempt: 1, retry_in_ms: 250, last_revision: revision, reason: 'etcd watch stream closed: connection reset by 10.20.0.12:2379' });
          send({ type: 'reconnecting', attempt: 2, retry_in_ms: 500, last_revision: revision, reason: 'connection refused by 10.20.0.12:2379' });
        }, 6000);
        setTimeout(() => {
          if (!watchers.has(id)) return;
          const changed = under(prefix).slice(0, 3);
          send(
            ctx.params.has('compact')
              ? { type: 'gap', last_revision: revision - 5, compact_revision: revision - 2, revision, changed, more_changed: false }
              : { type: 'resumed', last_revision: revision },
          );
        }, 10000);
      }
      console.info(`[opsdeck mock] watch ${id} on ${prefix}`);
      return id;
    },
    configValueSearch: (connectionId, prefix, text, mode, limit, channel) => {
      ctx.check(connectionId);
      const needle = text.trim().toLowerCase();
      if (!needle) throw err('invalid_input', 'search: type part of a key or value');
      const id = ++watchSeq;
      watchers.set(id, { prefix, send: () => {} });
      let hits = 0;
      let scanned = 0;
      for (const key of under(prefix)) {
        scanned++;
        const kv = store.get(key)!;
        const rel = key.slice(prefix.length);
        if (mode === 'fuzzy') {
          // Dev only: the letters in order in the key name (the backend uses nucleo, values too).
          const marks: boolean[] = [];
          let i = 0;
          for (const c of rel) {
            const m = i < needle.length && c.toLowerCase() === needle[i];
            if (m) i++;
            marks.push(m);
          }
          if (i < needle.length) continue;
          const parts = [{ text: prefix, hit: false }];
          [...rel].forEach((c, j) => {
            const last = parts[parts.length - 1];
            if (last.hit === marks[j] && j > 0) last.text += c;
            else parts.push({ text: c, hit: marks[j] });
          });
          const hit = { key, meta: meta(key, kv), found_in: 'key' as const, before: '', matched: rel, after: '', parts, score: 100 };
          channel.onmessage({ type: 'hit', hit });
          if (++hits >= limit) break;
          continue;
        }
        const inKey = rel.toLowerCase().indexOf(needle);
        const inValue = kv.binary ? -1 : kv.value.toLowerCase().indexOf(needle);
        if (inKey < 0 && inValue < 0) continue;
        const [hay, at] = inKey >= 0 ? [key, prefix.length + inKey] : [kv.value, inValue];
        const hit = {
          key,
          meta: meta(key, kv),
          found_in: inKey >= 0 ? ('key' as const) : ('value' as const),
          before: hay.slice(inKey >= 0 ? 0 : Math.max(0, at - 40), at),
          matched: hay.slice(at, at + needle.length),
          after: hay.slice(at + needle.length, at + needle.length + 40),
          parts: [] as { text: string; hit: boolean }[],
          score: null,
        };
        hit.parts = [
          { text: hit.before, hit: false },
          { text: hit.matched, hit: true },
          { text: hit.after, hit: false },
        ].filter((p) => p.text);
        channel.onmessage({ type: 'hit', hit });
        if (++hits >= limit) break;
      }
      channel.onmessage({ type: 'done', scanned, hits, truncated: hits >= limit, revision });
      return id;
    },
    configValueSearchStop: (searchId) => {
      watchers.delete(searchId);
      return null;
    },
    configUnwatch: (watchId) => {
      watchers.delete(watchId);
      console.info(`[opsdeck mock] unwatch ${watchId}`);
      return null;
    },
  };
}

// Someone else works on the cluster: every ~10 s a change under /app/.
let tick = 0;
const created: string[] = [];
setInterval(() => {
  tick++;
  const env = tick % 3 === 0 ? 'prod' : 'dev';
  if (tick % 4 === 1) {
    const key = `/app/${env}/jobs/job-${String(1000 + tick)}`;
    put(key, JSON.stringify({ state: 'queued', by: 'ci-bot' }));
    created.push(key);
  } else if (tick % 4 === 3 && created.length > 1) {
    del(created.shift()!);
  } else {
    const svc = SERVICES[tick % SERVICES.length];
    put(`/app/${env}/${svc}/log-level`, ['info', 'debug', 'warn'][tick % 3]);
    put(`/app/${env}/db`, JSON.stringify({ pool: env === 'prod' ? 50 + (tick % 5) : 10 + (tick % 5) }, null, 2));
  }
}, 10_000);
