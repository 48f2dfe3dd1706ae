// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import type { SchemaInfo } from '../../../api/types';
import { flush, renderHook } from '../../../util/renderHook';
import { useSchemaFor } from './SchemaNote';

afterEach(() => clearMocks());

const info: SchemaInfo = { prefix: '/app/prod/', source: 'team store /opsdeck/config/schemas/2f', revision: 3, invalid: null, document: '{}' };

it('asks which schema governs the open key, again when the key changes', async () => {
  const asked: unknown[] = [];
  mockIPC((cmd, args) => {
    asked.push([cmd, (args as { key: string }).key]);
    return (args as { key: string }).key.startsWith('/app/prod/') ? info : null;
  });
  let key = '/app/prod/db';
  const { result, rerender } = renderHook(() => useSchemaFor('c1', key), {});
  await flush();
  expect(result.current).toEqual(info);
  key = '/app/dev/db';
  rerender({});
  await flush();
  expect(result.current).toBeNull();
  expect(asked).toEqual([
    ['config_schema_for', '/app/prod/db'],
    ['config_schema_for', '/app/dev/db'],
  ]);
});

it('a failed lookup shows no schema (the save still checks)', async () => {
  mockIPC(() => {
    throw { code: 'forbidden', message: 'no read' };
  });
  const { result } = renderHook(() => useSchemaFor('c1', '/x'), {});
  await flush();
  expect(result.current).toBeNull();
});
