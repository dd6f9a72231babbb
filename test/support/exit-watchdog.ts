/**
 * Jest runs without `--forceExit`: after the last test it exits only once nothing holds the event loop. A
 * test that leaks a handle (a Redis client, a server, a timer) would leave the run hanging — in CI, forever.
 * Armed at the end of global teardown, this unref'd timer fires only if the process is still alive after
 * `graceMs` (time for keep-alive sockets and idle pool clients to close): it names what is still open and
 * fails the run, instead of hanging or exiting as if nothing happened.
 */
export function armExitWatchdog(graceMs = 15_000): void {
  setTimeout(() => {
    const open = process
      .getActiveResourcesInfo()
      .filter((type) => type !== 'TTYWrap' && type !== 'Timeout')
      .reduce<Record<string, number>>((counts, type) => ({ ...counts, [type]: (counts[type] ?? 0) + 1 }), {});
    process.stderr.write(
      `\njest is still running ${graceMs / 1000} s after the last test: a test left handles open ${JSON.stringify(open)}.\n` +
        'Find it with `npx jest <suite> --selectProjects <project> --detectOpenHandles`, close what it opened (afterAll), and run again.\n',
    );
    process.exit(1);
  }, graceMs).unref();
}
