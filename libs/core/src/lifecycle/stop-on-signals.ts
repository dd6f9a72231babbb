/**
 * Ctrl-C (SIGINT) or SIGTERM closes the app — every shutdown hook runs: in-flight requests and running jobs
 * finish, queued audit events are written, the embedded PostgreSQL closes — and the process then exits 0: a
 * stop that was asked for and went cleanly is a success, so `make run` ends quietly (no
 * `make: *** [run] Interrupt`). A failed close exits 1.
 *
 * While the close runs, a SIGTERM is ignored (scripts/run-all.sh passes a Ctrl-C on as SIGTERM to processes
 * that got the Ctrl-C too) and a second SIGINT — Ctrl-C pressed again — ends the process at once (130), the
 * way out of a close that hangs. "Second" counts SIGINTs, not signals: run-all's SIGTERM may be handled before
 * the Ctrl-C's own SIGINT, and that SIGINT is the same Ctrl-C, not a second one (taking it for one ended the
 * worker with 130 before its queues had closed).
 *
 * Replaces Nest's `enableShutdownHooks()`, which re-raises the signal after closing (the process then dies
 * "killed by SIGINT", which make reports as an error).
 */
export function stopOnSignals(app: { close(): Promise<void> }, onCloseError: (error: unknown) => void): void {
  let stopping = false;
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT') interrupts += 1;
    if (stopping) {
      if (interrupts >= 2) process.exit(130);
      return;
    }
    stopping = true;
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        onCloseError(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
