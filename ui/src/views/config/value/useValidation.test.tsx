// @vitest-environment jsdom
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, expect, it } from 'vitest';
import { flush, renderHook } from '../../../util/renderHook';
import { useValidation } from './useValidation';

afterEach(() => clearMocks());

it('plain text is valid at once; a structured draft is valid only once checked, for that very draft', async () => {
  const asked: unknown[] = [];
  mockIPC((_cmd, args) => {
    asked.push(args);
    const a = args as { value: string; format: string };
    return a.value.startsWith('{') && a.value.endsWith('}')
      ? { format: a.format, ok: true, error: null, line: null, column: null }
      : { format: a.format, ok: false, error: 'unexpected end', line: 1, column: 3 };
  });
  const { result, rerender } = renderHook(({ draft, format }: { draft: string; format: 'plain' | 'json' }) => useValidation(draft, format, false), { draft: '{ x', format: 'plain' });
  await flush();
  expect(asked).toEqual([]);
  expect(result.current.valid).toBe(true);

  rerender({ draft: '{ x', format: 'json' });
  expect(result.current.valid).toBe(false); // not checked yet
  await new Promise((r) => setTimeout(r, 300));
  await flush();
  expect(asked).toEqual([{ value: '{ x', format: 'json' }]);
  expect(result.current.current).toMatchObject({ ok: false, line: 1 });
  expect(result.current.valid).toBe(false);

  rerender({ draft: '{}', format: 'json' });
  expect(result.current.fresh).toBe(false);
  await new Promise((r) => setTimeout(r, 300));
  await flush();
  expect(result.current.valid).toBe(true);
});
