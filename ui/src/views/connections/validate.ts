// Pure validation of the connection form. Mirrors the backend's rules
// (src-tauri/core/src/connections/validate.rs) so that most mistakes are caught
// before saving; the backend stays the authority and its AppError is shown too.
// Every problem is an i18n key (under "validation.") plus interpolation params.

import type { ConnectionInput, ConnectionSpec, Connection, Kind, TlsFiles } from '../../api/types';

export const NAME_MAX = 64;
export const SECRET_MAX = 4096;
export const ETCD_ENDPOINTS_MAX = 16;

export interface Problem {
  key: string;
  params?: Record<string, string | number>;
}

export type FieldName =
  | 'name'
  | 'kind'
  | 'vsphereUrl'
  | 'username'
  | 'thumbprint'
  | 'dockerHost'
  | 'tlsCa'
  | 'tlsCert'
  | 'tlsKey'
  | 'kubeconfig'
  | 'contexts'
  | 'endpoints'
  | 'secret';

export type FormErrors = Partial<Record<FieldName, Problem>>;

/** Everything the add/edit form edits, flat, as strings the inputs hold. */
export interface ConnectionForm {
  id: string | null;
  name: string;
  kind: Kind;
  vsphereUrl: string;
  username: string;
  thumbprint: string;
  dockerHost: string;
  tlsCa: string;
  tlsCert: string;
  tlsKey: string;
  kubeconfig: string;
  /** checked contexts; [] = all */
  contexts: string[];
  /** raw textarea text: comma, space or newline separated */
  endpoints: string;
  /** new password/token; "" = keep the stored one (or none) */
  secret: string;
  clearSecret: boolean;
  /** the saved connection has a secret in the keychain (edit only) */
  hasSecret: boolean;
  /** etcd/docker: plain text to another machine, explicitly accepted */
  allowPlaintext: boolean;
}

const p = (key: string, params?: Problem['params']): Problem => (params ? { key, params } : { key });

// Rust's char::is_control: the Cc category.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function validateName(raw: string): Problem | null {
  const name = raw.trim();
  if (name === '') return p('validation.nameRequired');
  if ([...name].length > NAME_MAX) return p('validation.nameTooLong', { max: NAME_MAX });
  if (CONTROL.test(name)) return p('validation.nameControl');
  return null;
}

/** Does `names` (other connections) already use this name? Case-sensitive, trimmed. */
export function nameTaken(raw: string, names: readonly string[]): boolean {
  const name = raw.trim();
  return names.includes(name);
}

export function validateVsphereUrl(raw: string): Problem | null {
  const value = raw.trim();
  if (value === '') return p('validation.urlRequired');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return p('validation.urlInvalid', { value });
  }
  if (url.protocol === 'http:') return p('validation.urlHttps');
  if (url.protocol !== 'https:') return p('validation.urlInvalid', { value });
  if (url.hostname === '') return p('validation.urlNoHost');
  if (url.username !== '' || url.password !== '') return p('validation.urlCredentials');
  return null;
}

export function validateUsername(raw: string, required: boolean): Problem | null {
  if (required && raw.trim() === '') return p('validation.usernameRequired');
  return null;
}

/** Lowercase hex without separators; "" when the input is not a SHA-256 thumbprint. */
export function normalizeThumbprint(raw: string): string {
  const hex = raw.replace(/[:\s-]/g, '');
  return /^[0-9a-fA-F]{64}$/.test(hex) ? hex.toLowerCase() : '';
}

export function validateThumbprint(raw: string): Problem | null {
  if (raw.trim() === '') return null;
  return normalizeThumbprint(raw) === '' ? p('validation.thumbprintInvalid') : null;
}

interface HostPort {
  scheme: string;
  host: string;
  port: number | null;
}

/**
 * Parses `scheme://host[:port][/]` where host is a name, IPv4 or [IPv6].
 * Returns a problem key when it does not parse.
 */
export function parseHostPort(raw: string): HostPort | Problem {
  const value = raw.trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?(\[[0-9a-fA-F:.]+\]|[^/:\s[\]]+)(?::(\d*))?(\/.*)?$/i.exec(value);
  if (!m) return p('validation.endpointInvalid', { value });
  const [, scheme, userinfo, host, port, path] = m;
  if (userinfo !== undefined) return p('validation.endpointCredentials', { value });
  if (path !== undefined && path !== '/') return p('validation.endpointPath', { value });
  let portNum: number | null = null;
  if (port !== undefined) {
    portNum = port === '' ? NaN : Number(port);
    if (!Number.isInteger(portNum) || portNum < 1 || portNum > 65535) {
      return p('validation.endpointPort', { value });
    }
  }
  try {
    // Checks the host characters (and IDNA) the way the backend's URL parser does.
    new URL(`http://${host}`);
  } catch {
    return p('validation.endpointInvalid', { value });
  }
  return { scheme: scheme.toLowerCase(), host, port: portNum };
}

function isProblem(x: HostPort | Problem): x is Problem {
  return 'key' in x;
}

/** One etcd endpoint: http(s)://host:port. */
export function validateEndpoint(raw: string): Problem | null {
  const r = parseHostPort(raw);
  if (isProblem(r)) return r;
  if (r.scheme !== 'http' && r.scheme !== 'https') return p('validation.endpointScheme', { value: raw.trim() });
  if (r.port === null) return p('validation.endpointNoPort', { value: raw.trim() });
  return null;
}

/** Whether the form sends credentials (etcd) or the Docker API in clear
 * text to another machine: it needs the explicit opt-in. */
export function plaintextRisk(form: ConnectionForm): boolean {
  const remote = (u: string) => !/^[a-z]+:\/\/(localhost|127\.[0-9.]+|\[::1\])(:|\/|$)/i.test(u.trim());
  if (form.kind === 'docker') {
    const h = form.dockerHost.trim();
    return (h.startsWith('tcp://') || h.startsWith('http://')) && !form.tlsCa && !form.tlsCert && remote(h);
  }
  if (form.kind === 'etcd') {
    return form.username.trim() !== '' && splitEndpoints(form.endpoints).some((e) => e.startsWith('http://') && remote(e));
  }
  return false;
}

/** Splits the endpoints text on commas, whitespace and newlines. */
export function splitEndpoints(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

export function validateEndpoints(text: string, hasTls: boolean): Problem | null {
  const endpoints = splitEndpoints(text);
  if (endpoints.length === 0) return p('validation.endpointsRequired');
  if (endpoints.length > ETCD_ENDPOINTS_MAX) return p('validation.endpointsTooMany', { max: ETCD_ENDPOINTS_MAX });
  for (const e of endpoints) {
    const problem = validateEndpoint(e);
    if (problem) return problem;
  }
  const schemes = new Set(endpoints.map((e) => e.slice(0, e.indexOf(':')).toLowerCase()));
  if (schemes.size > 1) return p('validation.endpointsMixed');
  if (hasTls && schemes.has('http')) return p('validation.endpointsTlsHttp');
  return null;
}

/** Docker: unix:///abs/path, tcp://host:port or http(s)://host[:port]. */
export function validateDockerHost(raw: string, hasTls: boolean): Problem | null {
  const value = raw.trim();
  if (value === '') return p('validation.dockerHostRequired');
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (!path.startsWith('/')) return p('validation.dockerUnixAbsolute');
    if (hasTls) return p('validation.dockerTlsUnix');
    return null;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') return p('validation.dockerHostInvalid');
  const r = parseHostPort(value);
  if (isProblem(r)) return r;
  if (scheme === 'tcp' && r.port === null) return p('validation.endpointNoPort', { value });
  if (scheme === 'http' && hasTls) return p('validation.dockerTlsHttp');
  return null;
}

/** A client certificate and its key go together. */
export function validateTlsPair(cert: string, key: string): Problem | null {
  return (cert.trim() === '') !== (key.trim() === '') ? p('validation.tlsPair') : null;
}

export function validateKubeconfig(raw: string): Problem | null {
  return raw.trim() === '' ? p('validation.kubeconfigRequired') : null;
}

export function kindHasSecret(kind: Kind): boolean {
  return kind !== 'docker';
}

export function validateSecret(form: ConnectionForm): Problem | null {
  if (!kindHasSecret(form.kind) || form.clearSecret) return null;
  // vCenter always logs in with a password: a new vSphere connection needs one.
  if (form.secret === '') return form.kind === 'vsphere' && !form.hasSecret ? p('validation.passwordRequired') : null;
  if (new TextEncoder().encode(form.secret).length > SECRET_MAX) return p('validation.secretTooLong', { max: SECRET_MAX });
  if (form.kind === 'etcd' && form.username.trim() === '') return p('validation.etcdPasswordNeedsUser');
  return null;
}

function hasTlsFiles(form: ConnectionForm): boolean {
  return [form.tlsCa, form.tlsCert, form.tlsKey].some((f) => f.trim() !== '');
}

/** All problems of the form, by field. Empty object = valid. */
export function validateForm(form: ConnectionForm, otherNames: readonly string[] = []): FormErrors {
  const errors: FormErrors = {};
  const set = (field: FieldName, problem: Problem | null) => {
    if (problem && !errors[field]) errors[field] = problem;
  };
  set('name', validateName(form.name));
  if (!errors.name && nameTaken(form.name, otherNames)) set('name', p('validation.nameTaken'));
  const tls = hasTlsFiles(form);
  switch (form.kind) {
    case 'vsphere':
      set('vsphereUrl', validateVsphereUrl(form.vsphereUrl));
      set('username', validateUsername(form.username, true));
      set('thumbprint', validateThumbprint(form.thumbprint));
      break;
    case 'docker':
      set('dockerHost', validateDockerHost(form.dockerHost, tls));
      set('tlsKey', validateTlsPair(form.tlsCert, form.tlsKey));
      break;
    case 'kubernetes':
      set('kubeconfig', validateKubeconfig(form.kubeconfig));
      break;
    case 'etcd':
      set('endpoints', validateEndpoints(form.endpoints, tls));
      set('tlsKey', validateTlsPair(form.tlsCert, form.tlsKey));
      break;
  }
  set('secret', validateSecret(form));
  return errors;
}

const orNull = (s: string): string | null => (s.trim() === '' ? null : s.trim());

function tlsOf(form: ConnectionForm): TlsFiles | null {
  const tls: TlsFiles = { ca_file: orNull(form.tlsCa), cert_file: orNull(form.tlsCert), key_file: orNull(form.tlsKey) };
  return tls.ca_file || tls.cert_file || tls.key_file ? tls : null;
}

export function specOf(form: ConnectionForm): ConnectionSpec {
  switch (form.kind) {
    case 'vsphere':
      return {
        kind: 'vsphere',
        url: form.vsphereUrl.trim(),
        username: form.username.trim(),
        thumbprint: orNull(form.thumbprint),
      };
    case 'docker':
      return { kind: 'docker', host: form.dockerHost.trim(), tls: tlsOf(form), allow_plaintext: form.allowPlaintext };
    case 'kubernetes':
      return { kind: 'kubernetes', kubeconfig: form.kubeconfig.trim(), contexts: [...form.contexts] };
    case 'etcd':
      return {
        kind: 'etcd',
        endpoints: splitEndpoints(form.endpoints),
        tls: tlsOf(form),
        username: orNull(form.username),
        allow_plaintext: form.allowPlaintext,
      };
  }
}

/** The IPC payload for `connection_save`. An empty secret field keeps the stored secret. */
export function toInput(form: ConnectionForm): ConnectionInput {
  const withSecret = kindHasSecret(form.kind);
  return {
    id: form.id,
    name: form.name.trim(),
    spec: specOf(form),
    secret: withSecret && !form.clearSecret && form.secret !== '' ? form.secret : null,
    clear_secret: form.hasSecret && (form.clearSecret || !withSecret),
  };
}

export function emptyForm(kind: Kind = 'etcd'): ConnectionForm {
  return {
    id: null,
    name: '',
    kind,
    vsphereUrl: '',
    username: '',
    thumbprint: '',
    dockerHost: '',
    tlsCa: '',
    tlsCert: '',
    tlsKey: '',
    kubeconfig: '',
    contexts: [],
    endpoints: '',
    secret: '',
    clearSecret: false,
    hasSecret: false,
    allowPlaintext: false,
  };
}

export function fromConnection(c: Connection): ConnectionForm {
  const f = { ...emptyForm(c.spec.kind), id: c.id, name: c.name, hasSecret: c.has_secret };
  const s = c.spec;
  switch (s.kind) {
    case 'vsphere':
      return { ...f, vsphereUrl: s.url, username: s.username, thumbprint: s.thumbprint ?? '' };
    case 'docker':
      return {
        ...f,
        dockerHost: s.host,
        allowPlaintext: s.allow_plaintext ?? false,
        tlsCa: s.tls?.ca_file ?? '',
        tlsCert: s.tls?.cert_file ?? '',
        tlsKey: s.tls?.key_file ?? '',
      };
    case 'kubernetes':
      return { ...f, kubeconfig: s.kubeconfig, contexts: [...(s.contexts ?? [])] };
    case 'etcd':
      return {
        ...f,
        endpoints: s.endpoints.join('\n'),
        username: s.username ?? '',
        allowPlaintext: s.allow_plaintext ?? false,
        tlsCa: s.tls?.ca_file ?? '',
        tlsCert: s.tls?.cert_file ?? '',
        tlsKey: s.tls?.key_file ?? '',
      };
  }
}
