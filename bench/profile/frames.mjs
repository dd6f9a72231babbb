// Shared by the profile summaries (analyze.mjs, heap-analyze.mjs, ledger-summary.mjs): where a frame's code lives.

/** The package (or `node:*` module, or the library of `dist/libs/*` / `dist/apps/*`) a frame's URL belongs to. */
export function packageOf(url) {
  if (!url) return '(native/idle)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return url.split('/')[0];
  const d = /dist\/(libs\/[^/]+|apps\/[^/]+)/.exec(url);
  return d ? d[1] : url.slice(-50);
}
