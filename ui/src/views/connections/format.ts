import type { Connection, ConnectionSpec } from '../../api/types';

/** The "target" column: url, host, endpoints or kubeconfig (+ contexts). */
export function targetOf(spec: ConnectionSpec): string {
  switch (spec.kind) {
    case 'vsphere':
      return spec.url;
    case 'docker':
      return spec.host;
    case 'kubernetes':
      return spec.contexts?.length ? `${spec.kubeconfig} [${spec.contexts.join(', ')}]` : spec.kubeconfig;
    case 'etcd':
      return spec.endpoints.join(', ');
  }
}

export function userOf(spec: ConnectionSpec): string | null {
  switch (spec.kind) {
    case 'vsphere':
      return spec.username;
    case 'etcd':
      return spec.username ?? null;
    default:
      return null;
  }
}

export type TestState = 'ok' | 'error' | 'running' | 'never';

export function testStateOf(c: Connection, running: boolean): TestState {
  if (running) return 'running';
  if (!c.last_test) return 'never';
  return c.last_test.ok ? 'ok' : 'error';
}
