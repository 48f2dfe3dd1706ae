import { describe, expect, it } from 'vitest';
import type { Connection } from '../../api/types';
import {
  emptyForm,
  fromConnection,
  normalizeThumbprint,
  plaintextRisk,
  splitEndpoints,
  toInput,
  validateDockerHost,
  validateEndpoint,
  validateEndpoints,
  validateForm,
  validateName,
  validateThumbprint,
  validateTlsPair,
  validateVsphereUrl,
  type ConnectionForm,
} from './validate';

const key = (p: { key: string } | null) => p?.key ?? null;

describe('validateName', () => {
  it('requires 1..64 characters after trimming', () => {
    expect(key(validateName(''))).toBe('validation.nameRequired');
    expect(key(validateName('   '))).toBe('validation.nameRequired');
    expect(validateName('prod-etcd')).toBeNull();
    expect(validateName('  prod etcd  ')).toBeNull();
    expect(validateName('x'.repeat(64))).toBeNull();
    expect(key(validateName('x'.repeat(65)))).toBe('validation.nameTooLong');
    expect(validateName('生产'.repeat(32))).toBeNull(); // 64 code points
    expect(validateName('😀'.repeat(64))).toBeNull(); // counted as code points, not UTF-16 units
  });

  it('rejects control characters', () => {
    expect(key(validateName('a\nb'))).toBe('validation.nameControl');
    expect(key(validateName('a\u0007b'))).toBe('validation.nameControl');
  });
});

describe('validateVsphereUrl', () => {
  it('accepts https URLs', () => {
    expect(validateVsphereUrl('https://vc.example.com/sdk')).toBeNull();
    expect(validateVsphereUrl(' https://10.0.0.5:8443/sdk ')).toBeNull();
  });
  it('rejects http (the password would travel in clear text)', () => {
    expect(key(validateVsphereUrl('http://vc/sdk'))).toBe('validation.urlHttps');
  });
  it('rejects empty, non-URLs, other schemes and credentials in the URL', () => {
    expect(key(validateVsphereUrl(''))).toBe('validation.urlRequired');
    expect(key(validateVsphereUrl('vc.example.com/sdk'))).toBe('validation.urlInvalid');
    expect(key(validateVsphereUrl('ftp://vc/sdk'))).toBe('validation.urlInvalid');
    expect(key(validateVsphereUrl('https://root:pw@vc/sdk'))).toBe('validation.urlCredentials');
  });
});

describe('thumbprint', () => {
  const hex = 'ab'.repeat(32);
  it('accepts 64 hex digits with or without separators', () => {
    expect(validateThumbprint('')).toBeNull();
    expect(validateThumbprint(hex)).toBeNull();
    expect(validateThumbprint(('AB:'.repeat(31) + 'AB'))).toBeNull();
    expect(normalizeThumbprint('AB:'.repeat(31) + 'AB')).toBe(hex);
  });
  it('rejects SHA-1 and garbage', () => {
    expect(key(validateThumbprint('AB:'.repeat(19) + 'AB'))).toBe('validation.thumbprintInvalid');
    expect(key(validateThumbprint('zz'.repeat(32)))).toBe('validation.thumbprintInvalid');
  });
});

describe('etcd endpoints', () => {
  it('parses http(s)://host:port', () => {
    expect(validateEndpoint('http://127.0.0.1:2379')).toBeNull();
    expect(validateEndpoint('https://etcd-0.etcd.svc:2379')).toBeNull();
    expect(validateEndpoint('http://[::1]:2379')).toBeNull();
    expect(validateEndpoint('http://etcd:2379/')).toBeNull();
  });
  it('explains what is wrong', () => {
    expect(key(validateEndpoint('127.0.0.1:2379'))).toBe('validation.endpointInvalid');
    expect(key(validateEndpoint('grpc://etcd:2379'))).toBe('validation.endpointScheme');
    expect(key(validateEndpoint('http://etcd'))).toBe('validation.endpointNoPort');
    expect(key(validateEndpoint('http://etcd:99999'))).toBe('validation.endpointPort');
    expect(key(validateEndpoint('http://etcd:'))).toBe('validation.endpointPort');
    expect(key(validateEndpoint('http://etcd:2379/v3'))).toBe('validation.endpointPath');
    expect(key(validateEndpoint('http://root:pw@etcd:2379'))).toBe('validation.endpointCredentials');
  });
  it('splits on commas, spaces and newlines', () => {
    expect(splitEndpoints('http://a:2379, http://b:2379\nhttp://c:2379\n\n')).toEqual([
      'http://a:2379',
      'http://b:2379',
      'http://c:2379',
    ]);
  });
  it('checks the list as a whole', () => {
    expect(key(validateEndpoints('', false))).toBe('validation.endpointsRequired');
    expect(key(validateEndpoints(' , \n', false))).toBe('validation.endpointsRequired');
    expect(validateEndpoints('http://a:2379,http://b:2379', false)).toBeNull();
    expect(key(validateEndpoints('http://a:2379,https://b:2379', false))).toBe('validation.endpointsMixed');
    expect(key(validateEndpoints('http://a:2379', true))).toBe('validation.endpointsTlsHttp');
    expect(validateEndpoints('https://a:2379', true)).toBeNull();
    expect(key(validateEndpoints(Array.from({ length: 17 }, (_, i) => `http://e${i}:2379`).join(','), false))).toBe(
      'validation.endpointsTooMany',
    );
    expect(validateEndpoints('http://a:2379 bogus', false)?.params?.value).toBe('bogus');
  });
});

describe('validateDockerHost', () => {
  it('accepts the three forms', () => {
    expect(validateDockerHost('unix:///var/run/docker.sock', false)).toBeNull();
    expect(validateDockerHost('tcp://10.0.0.5:2376', true)).toBeNull();
    expect(validateDockerHost('https://docker.example:2376', true)).toBeNull();
  });
  it('rejects the rest', () => {
    expect(key(validateDockerHost('', false))).toBe('validation.dockerHostRequired');
    expect(key(validateDockerHost('unix://relative.sock', false))).toBe('validation.dockerUnixAbsolute');
    expect(key(validateDockerHost('docker.example:2376', false))).toBe('validation.dockerHostInvalid');
    expect(key(validateDockerHost('ssh://docker.example', false))).toBe('validation.dockerHostInvalid');
    expect(key(validateDockerHost('tcp://docker.example', false))).toBe('validation.endpointNoPort');
    expect(key(validateDockerHost('unix:///var/run/docker.sock', true))).toBe('validation.dockerTlsUnix');
    expect(key(validateDockerHost('http://docker.example:2375', true))).toBe('validation.dockerTlsHttp');
  });
});

describe('validateTlsPair', () => {
  it('wants a certificate and its key together', () => {
    expect(validateTlsPair('', '')).toBeNull();
    expect(validateTlsPair('/c.pem', '/k.pem')).toBeNull();
    expect(key(validateTlsPair('/c.pem', ''))).toBe('validation.tlsPair');
    expect(key(validateTlsPair('', '/k.pem'))).toBe('validation.tlsPair');
  });
});

const form = (patch: Partial<ConnectionForm>): ConnectionForm => ({ ...emptyForm(patch.kind), ...patch });

describe('validateForm', () => {
  it('a valid etcd form has no errors', () => {
    expect(validateForm(form({ name: 'cfg', kind: 'etcd', endpoints: 'http://127.0.0.1:2379' }))).toEqual({});
  });

  it('reports each field', () => {
    const errors = validateForm(form({ kind: 'vsphere', vsphereUrl: 'http://vc/sdk', thumbprint: 'xx' }));
    expect(Object.keys(errors).sort()).toEqual(['name', 'secret', 'thumbprint', 'username', 'vsphereUrl']);
    expect(errors.secret?.key).toBe('validation.passwordRequired');
  });

  it('a vSphere password is only required when none is stored', () => {
    const base = { name: 'vc', kind: 'vsphere' as const, vsphereUrl: 'https://vc/sdk', username: 'admin' };
    expect(validateForm(form({ ...base, secret: 'pw' }))).toEqual({});
    expect(validateForm(form({ ...base, hasSecret: true }))).toEqual({});
  });

  it('rejects a name another connection uses', () => {
    const errors = validateForm(form({ name: ' prod ', endpoints: 'http://a:2379' }), ['prod', 'lab']);
    expect(errors.name?.key).toBe('validation.nameTaken');
  });

  it('an etcd password needs a username', () => {
    const f = form({ name: 'e', kind: 'etcd', endpoints: 'http://a:2379', secret: 'pw' });
    expect(validateForm(f).secret?.key).toBe('validation.etcdPasswordNeedsUser');
    expect(validateForm({ ...f, username: 'root' })).toEqual({});
  });

  it('only checks the fields of the selected kind', () => {
    expect(validateForm(form({ name: 'k', kind: 'kubernetes', kubeconfig: '/k', endpoints: 'garbage' }))).toEqual({});
    expect(validateForm(form({ name: 'k', kind: 'kubernetes' })).kubeconfig?.key).toBe('validation.kubeconfigRequired');
    expect(validateForm(form({ name: 'd', kind: 'docker', dockerHost: 'tcp://h:2376', tlsCert: '/c.pem' })).tlsKey?.key).toBe(
      'validation.tlsPair',
    );
  });
});

describe('toInput / fromConnection', () => {
  it('builds the IPC payload of a new etcd connection', () => {
    const f = form({ name: ' cfg ', kind: 'etcd', endpoints: 'http://a:2379,\nhttp://b:2379', username: ' root ', secret: 'pw' });
    expect(toInput(f)).toEqual({
      id: null,
      name: 'cfg',
      spec: { kind: 'etcd', endpoints: ['http://a:2379', 'http://b:2379'], tls: null, username: 'root', allow_plaintext: false },
      secret: 'pw',
      clear_secret: false,
    });
  });

  it('empty secret keeps the stored one; "remove" clears it', () => {
    const f = form({ id: 'x', name: 'vc', kind: 'vsphere', vsphereUrl: 'https://vc/sdk', username: 'a', hasSecret: true });
    expect(toInput(f)).toMatchObject({ id: 'x', secret: null, clear_secret: false });
    expect(toInput({ ...f, clearSecret: true, secret: 'ignored' })).toMatchObject({ secret: null, clear_secret: true });
    expect(toInput({ ...f, secret: 'new' })).toMatchObject({ secret: 'new', clear_secret: false });
    expect(toInput(f).spec).toEqual({ kind: 'vsphere', url: 'https://vc/sdk', username: 'a', thumbprint: null });
  });

  it('docker sends no secret and TLS only when a file is set', () => {
    const f = form({ name: 'd', kind: 'docker', dockerHost: 'tcp://h:2376', tlsCa: ' /ca.pem ' });
    expect(toInput(f)).toMatchObject({
      secret: null,
      spec: { kind: 'docker', host: 'tcp://h:2376', tls: { ca_file: '/ca.pem', cert_file: null, key_file: null }, allow_plaintext: false },
    });
    expect(toInput({ ...f, tlsCa: '' }).spec).toEqual({ kind: 'docker', host: 'tcp://h:2376', tls: null, allow_plaintext: false });
    // Without TLS to another machine the form asks for the explicit opt-in; to loopback it does not.
    expect(plaintextRisk({ ...f, tlsCa: '' })).toBe(true);
    expect(plaintextRisk({ ...f, tlsCa: '', dockerHost: 'tcp://127.0.0.1:2375' })).toBe(false);
    expect(plaintextRisk(form({ kind: 'etcd', endpoints: 'http://10.0.0.5:2379', username: 'ops' }))).toBe(true);
    expect(plaintextRisk(form({ kind: 'etcd', endpoints: 'http://10.0.0.5:2379' }))).toBe(false);
  });

  it('round-trips a saved connection', () => {
    const c: Connection = {
      id: 'id-1',
      name: 'k8s',
      spec: { kind: 'kubernetes', kubeconfig: '/home/ops/.kube/config', contexts: ['prod', 'staging'] },
      has_secret: true,
      created_at: '2025-01-01T00:00:00Z',
      updated_at: '2025-01-01T00:00:00Z',
      last_test: null,
    };
    const f = fromConnection(c);
    expect(f).toMatchObject({ id: 'id-1', kind: 'kubernetes', hasSecret: true, secret: '', contexts: ['prod', 'staging'] });
    expect(toInput(f)).toEqual({ id: 'id-1', name: 'k8s', spec: c.spec, secret: null, clear_secret: false });
  });
});
