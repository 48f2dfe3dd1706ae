// The connection form's fields: the order errors are looked for in (the first
// one gets the focus) and each field's element id, also its data-testid.
import type { TFn } from '../../../i18n';
import type { FieldName, Problem } from '../validate';

export const FIELD_ORDER: FieldName[] = [
  'name',
  'kind',
  'vsphereUrl',
  'dockerHost',
  'kubeconfig',
  'contexts',
  'endpoints',
  'username',
  'secret',
  'thumbprint',
  'tlsCa',
  'tlsCert',
  'tlsKey',
];

export const FIELD_IDS: Record<FieldName, string> = {
  name: 'conn-name',
  kind: 'conn-kind',
  vsphereUrl: 'conn-vsphere-url',
  username: 'conn-username',
  thumbprint: 'conn-thumbprint',
  dockerHost: 'conn-docker-host',
  tlsCa: 'conn-tls-ca',
  tlsCert: 'conn-tls-cert',
  tlsKey: 'conn-tls-key',
  kubeconfig: 'conn-kubeconfig',
  contexts: 'conn-contexts',
  endpoints: 'conn-etcd-endpoints',
  secret: 'conn-secret',
};

/** A validation problem as text (null: none). */
export const msg = (t: TFn, p: Problem | undefined) => (p ? t(p.key, p.params) : null);
