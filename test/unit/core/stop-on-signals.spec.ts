import { stopOnSignals } from '../../../libs/core/src/lifecycle/stop-on-signals';

/**
 * The stop of a process (docs/dev-mode.md, scripts/run-all.sh): the first SIGINT or SIGTERM closes the app and
 * exits 0; during the close a SIGTERM is ignored and only a second SIGINT (Ctrl-C pressed again) ends the
 * process at once — whichever order run-all's SIGTERM and the Ctrl-C's own SIGINT arrive in.
 */
describe('stopOnSignals', () => {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let before: Map<string, NodeJS.SignalsListener[]>;
  let exit: jest.SpyInstance;
  let closes: number;
  let finishClose: () => void;

  beforeEach(() => {
    before = new Map(signals.map((s) => [s, process.listeners(s)]));
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    closes = 0;
    stopOnSignals(
      {
        close: () => {
          closes += 1;
          return new Promise<void>((resolve) => (finishClose = resolve));
        },
      },
      () => undefined,
    );
  });

  afterEach(() => {
    for (const s of signals) {
      for (const listener of process.listeners(s)) {
        if (!before.get(s)!.includes(listener)) process.removeListener(s, listener);
      }
    }
    exit.mockRestore();
  });

  const send = (signal: NodeJS.Signals) => process.emit(signal, signal);
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('Ctrl-C closes the app once and exits 0; run-all passing it on as SIGTERM changes nothing', async () => {
    send('SIGINT');
    send('SIGTERM');
    expect(closes).toBe(1);
    expect(exit).not.toHaveBeenCalled();
    finishClose();
    await settle();
    expect(exit).toHaveBeenCalledWith(0);
  });

  it("run-all's SIGTERM handled before the Ctrl-C's own SIGINT: still one graceful stop, not 130", async () => {
    send('SIGTERM');
    send('SIGINT');
    expect(closes).toBe(1);
    expect(exit).not.toHaveBeenCalled();
    finishClose();
    await settle();
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('Ctrl-C pressed again while the close hangs ends the process at once (130)', () => {
    send('SIGINT');
    send('SIGTERM');
    send('SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    expect(closes).toBe(1);
  });
});
