import { describe, expect, it } from 'vitest';
import { api, BACKEND_MISSING_MESSAGE, toAppError } from './client';

describe('toAppError', () => {
  it('keeps a backend AppError', () => {
    expect(toAppError({ code: 'unreachable', message: 'refused' })).toEqual({ code: 'unreachable', message: 'refused' });
  });
  it('maps unknown codes to internal', () => {
    expect(toAppError({ code: 'weird', message: 'm' })).toEqual({ code: 'internal', message: 'm' });
  });
  it('wraps strings and Errors', () => {
    expect(toAppError('command x not found')).toEqual({ code: 'internal', message: 'command x not found' });
    expect(toAppError(new TypeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toAppError(42)).toEqual({ code: 'internal', message: '42' });
  });
});

describe('without the Tauri backend', () => {
  it('rejects with an AppError instead of throwing a TypeError', async () => {
    await expect(api.connectionsList()).rejects.toEqual({ code: 'unsupported', message: BACKEND_MISSING_MESSAGE });
  });
});

describe('details', () => {
  it('keeps the causes a backend error carries', () => {
    expect(toAppError({ code: 'timeout', message: 'etcd did not answer', details: ['Timeout expired'] })).toEqual({
      code: 'timeout',
      message: 'etcd did not answer',
      details: ['Timeout expired'],
    });
  });
  it('knows every code of the generated contract, cancelled included', () => {
    expect(toAppError({ code: 'cancelled', message: 'scan cancelled' }).code).toBe('cancelled');
  });
});
