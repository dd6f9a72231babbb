// Loaded with `node -r ./bench/profile/heap-preload.cjs`: V8's sampling heap profiler from start-up, counting
// objects a GC has already collected too (so it shows what a request allocates, not what survives), and
// writes `<BENCH_PROFILE_DIR>/<pid>.heapprofile` on SIGWINCH — the same signal as preload.cjs, so
// `BENCH_PROFILE=<dir> BENCH_NODE_OPTIONS="-r ./bench/profile/heap-preload.cjs"` works with `make bench`.
// `node bench/profile/heap-analyze.mjs <file>` sums the bytes by allocating function. A development aid for
// docs/performance.md, never loaded in production.
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');

const dir = process.env.BENCH_PROFILE_DIR || '.';
const session = new inspector.Session();
session.connect();
const start = () =>
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
session.post('HeapProfiler.enable', start);

process.on('SIGWINCH', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (!error)
      fs.writeFileSync(path.join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
    start();
  });
});
