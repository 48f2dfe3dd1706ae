// The add dialog's checks and input, and the tag order of the Registries tab.
import { expect, it } from 'vitest';
import { compareTags, draftErrors, draftToInput, emptyDraft, imageOf } from './model';

it('checks the draft field by field, as the backend will', () => {
  expect(Object.keys(draftErrors(emptyDraft())).sort()).toEqual(['name', 'url']);
  const ok = { ...emptyDraft(), name: 'team', url: 'registry.example:5000' };
  expect(draftErrors(ok)).toEqual({});
  expect(draftErrors({ ...ok, url: 'https://registry.example/some/repo' })).toEqual({ url: 'url' });
  expect(draftErrors({ ...ok, url: 'https://user:pw@registry.example' })).toEqual({ url: 'url' });
  expect(draftErrors({ ...ok, auth: 'basic' })).toEqual({ username: 'username', password: 'password' });
  expect(draftErrors({ ...ok, auth: 'token', username: 'ci', password: 'pw' })).toEqual({});
  expect(draftErrors({ ...ok, caFile: 'ca.pem' })).toEqual({ caFile: 'caFile' });
  expect(draftErrors({ ...ok, platform: 'linux' })).toEqual({ platform: 'platform' });
  expect(draftErrors({ ...ok, platform: 'linux/arm64/v8' })).toEqual({});
});

it('sends no user or password for an anonymous registry, and trims the rest', () => {
  const d = { ...emptyDraft(), name: ' team ', url: ' https://r.example ', username: 'left-over', password: 'left-over' };
  expect(draftToInput(d)).toEqual({
    id: null,
    name: 'team',
    spec: { url: 'https://r.example', auth: 'anonymous', username: null, ca_file: null, platform: null },
    secret: null,
  });
  const basic = draftToInput({ ...d, auth: 'basic', caFile: ' /etc/ca.pem ', platform: 'linux/amd64' });
  expect(basic.spec).toMatchObject({ auth: 'basic', username: 'left-over', ca_file: '/etc/ca.pem', platform: 'linux/amd64' });
  expect(basic.secret).toBe('left-over');
});

it('orders tags as versions, latest last', () => {
  expect(['latest', '1.10', '1.9', '2.0', 'rc-3', '1.2.0'].sort(compareTags)).toEqual(['1.2.0', '1.9', '1.10', '2.0', 'rc-3', 'latest']);
  expect(imageOf('127.0.0.1:5000', 'team/app', '1.0')).toBe('127.0.0.1:5000/team/app:1.0');
});
