import * as crypto from 'node:crypto';
import { constantTimeEqual } from '../../../libs/core/src/crypto/constant-time';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, timingSafeEqual: jest.fn(actual.timingSafeEqual) };
});

describe('constantTimeEqual (X-Admin-Key comparison)', () => {
  it('is true only for identical strings', () => {
    expect(constantTimeEqual('admin-key-0123456789', 'admin-key-0123456789')).toBe(true);
    expect(constantTimeEqual('admin-key-0123456789', 'admin-key-0123456788')).toBe(false);
    expect(constantTimeEqual('admin-key', 'admin-key-0123456789')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
  });

  it('compares fixed-length digests with crypto.timingSafeEqual, whatever the lengths of the inputs', () => {
    const timingSafeEqual = crypto.timingSafeEqual as jest.MockedFunction<typeof crypto.timingSafeEqual>;
    timingSafeEqual.mockClear();
    expect(constantTimeEqual('short', 'a much longer presented value')).toBe(false);
    expect(constantTimeEqual('same-length-1', 'same-length-2')).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    for (const [a, b] of timingSafeEqual.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});
