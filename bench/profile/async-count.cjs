// Loaded with `node -r ./bench/profile/async-count.cjs`: counts the async resources (promises, timers, ticks …)
// this process creates per HTTP request, and writes them to `<ASYNC_COUNT_DIR>/async-<pid>.json` twice a second.
// ASYNC_COUNT_STACKS=N also samples the creating frame of every Nth promise (our code or the package that
// made it), per request. A development aid for docs/performance.md, never loaded in production: the hook it
// installs is itself the cost it helps to explain (every promise calls it). With the ledger, e.g.
//   LEDGER_ROUTE=introspect LEDGER_LAYERS=baseline LEDGER_BASELINE_DIR=. LEDGER_ROUNDS=1 \
//   LEDGER_BASELINE_NODE_OPTIONS="--max-semi-space-size=32 -r ./bench/profile/async-count.cjs" make bench-ledger
const asyncHooks = require('node:async_hooks');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const dir = process.env.ASYNC_COUNT_DIR || '/tmp';
const every = Number(process.env.ASYNC_COUNT_STACKS || 0);
const created = {};
const frames = new Map();
let requests = 0;
let promises = 0;
let sampling = false;

function creatingFrame() {
  const lines = (new Error().stack || '')
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => !line.includes('async-count.cjs') && !line.includes('node:internal/async_hooks'));
  const frame = lines.find((line) => /dist\/|node_modules\//.test(line)) || lines[0] || '?';
  return frame
    .replace(/^at /, '')
    .replace(/\(.*?(dist\/|node_modules\/)/, '($1')
    .replace(/:\d+\)$/, ')');
}

asyncHooks
  .createHook({
    init(_id, type) {
      created[type] = (created[type] || 0) + 1;
      if (type !== 'PROMISE' || every <= 0 || sampling || ++promises % every !== 0) return;
      sampling = true; // creating the Error makes no promise, but be sure the hook never recurses
      const frame = creatingFrame();
      frames.set(frame, (frames.get(frame) || 0) + 1);
      sampling = false;
    },
  })
  .enable();

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function countRequests(event, ...args) {
  if (event === 'request') requests++;
  return emit.call(this, event, ...args);
};

const perRequest = (n) => Math.round((n / Math.max(1, requests)) * 100) / 100;
setInterval(() => {
  const report = {
    requests,
    per_request: Object.fromEntries(Object.entries(created).map(([type, n]) => [type, perRequest(n)])),
    promise_frames_per_request: [...frames]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 60)
      .map(([frame, n]) => [perRequest(n * every), frame]),
  };
  fs.writeFileSync(path.join(dir, `async-${process.pid}.json`), JSON.stringify(report, null, 1));
}, 500).unref();
