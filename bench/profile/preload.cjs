// Loaded with `node -r ./bench/profile/preload.cjs` (BENCH_PROFILE=1 in `make bench`): samples this process's
// CPU from start-up and writes `<BENCH_PROFILE_DIR>/<pid>.cpuprofile` on SIGWINCH (SIGUSR2 would shut Nest down; the bench sends it after the
// profiled scenario). A development aid for docs/performance.md, never loaded in production.
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');

const dir = process.env.BENCH_PROFILE_DIR || '.';
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable', () => {
  session.post('Profiler.setSamplingInterval', { interval: 200 }, () => {
    session.post('Profiler.start');
  });
});

process.on('SIGWINCH', () => {
  session.post('Profiler.stop', (error, result) => {
    if (!error) fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    session.post('Profiler.start');
  });
});
