/**
 * Ctrl-C (SIGINT) or SIGTERM closes the app — every shutdown hook runs: in-flight requests and running jobs
 * finish, queued audit events are written, the embedded PostgreSQL closes — and the process then exits 0: a
 * stop that was asked for and went cleanly is a success, so `make run` ends quietly (no
 * `make: *** [run] Interrupt`). A failed close exits 1. A second signal during the close is not caught: the
 * default action ends the process at once (the way out of a close that hangs).
 *
 * Replaces Nest's `enableShutdownHooks()`, which re-raises the signal after closing (the process then dies
 * "killed by SIGINT", which make reports as an error).
 */
export function stopOnSignals(
  app: { close(): Promise<void> },
  onCloseError: (error: unknown) => void,
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
): void {
  const stop = () => {
    for (const signal of signals) process.removeListener(signal, stop);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        onCloseError(error);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.once(signal, stop);
}
