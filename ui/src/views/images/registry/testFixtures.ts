// A saved registry connection as registry_list answers it, for the Vitest tests of the Registries tab.
export const CONN = {
  id: '6f1c2a4e-0000-4000-8000-000000000001',
  name: 'team registry',
  host: '127.0.0.1:5000',
  spec: { url: 'https://127.0.0.1:5000', auth: 'basic', username: 'ci', ca_file: '/ca.pem', platform: null },
  has_secret: true,
  created_at: '2026-12-05T05:00:00Z',
  updated_at: '2026-12-05T05:00:00Z',
};
