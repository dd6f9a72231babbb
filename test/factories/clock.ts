import { Clock } from '@agentauth/core';
import type { TestApp } from '../support/app';

/**
 * Freezes the app's Clock at the current instant; from then on only `clock.advance(ms)` moves it, so tests
 * can stand exactly on a boundary (grace end, expiry). Call `restore()` after the test.
 */
export function freezeClock(t: TestApp): { clock: Clock; frozenAt: number; restore: () => void } {
  const clock = t.app.get(Clock);
  const frozenAt = clock.nowMs();
  clock.reset();
  let offset = 0;
  const nowMs = jest.spyOn(clock, 'nowMs').mockImplementation(() => frozenAt + offset);
  const now = jest.spyOn(clock, 'now').mockImplementation(() => new Date(frozenAt + offset));
  const advance = jest.spyOn(clock, 'advance').mockImplementation((ms: number) => {
    offset += ms;
  });
  return {
    clock,
    frozenAt,
    restore: () => {
      nowMs.mockRestore();
      now.mockRestore();
      advance.mockRestore();
      clock.reset();
    },
  };
}
