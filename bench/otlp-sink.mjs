#!/usr/bin/env node
// An OTLP/HTTP sink for `BENCH_TRACING=1 make bench` (bench/run-bench.mjs starts it as its own process):
// accepts POST /v1/traces (protobuf or JSON), discards the body and answers 200, like a collector that keeps
// up. On SIGTERM it prints {"otlp_sink": {requests, bytes}} on stdout. Usage: node bench/otlp-sink.mjs <port>
import http from 'node:http';

const port = Number(process.argv[2] ?? 4318);
let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    if (req.url === '/v1/traces') requests++;
    res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ otlp_sink: { requests, bytes } })}\n`);
  process.exit(0);
});
