/**
 * Benchmark (not a test) of one audit event's cost to the process that records it, alone: no HTTP, no
 * token. `npm run bench:audit` (TEST_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres; a
 * scratch database `aa_bench_audit_<pid>`, migrated, dropped at the end).
 *
 * `AuditService.record` of a `token.issued`-shaped event (the token endpoint's details), EVENTS times at
 * concurrency CONCURRENCY (32: `make bench`'s connections), through the real group commit (`audit_append_json`,
 * the writer's own connection, synchronous commit). Printed per event: this process's CPU (user + system;
 * PostgreSQL's apart: its writer backend's, from /proc, when PostgreSQL runs on this machine), the events per
 * second and the batch sizes — beside the same loop awaiting
 * nothing (the loop's own floor). AUDIT_BENCH_PROFILE=<file> writes a CPU profile of the measured pass.
 * AUDIT_BENCH_CONTEXT=1 records each event inside an AsyncLocalStorage context, as the API does (nestjs-pino's
 * request context: on Node 20 a promise hook then runs for every promise).
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { PinoLogger } from 'nestjs-pino';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AuditService, DEFAULT_AUDIT_OPTIONS } from '@agentauth/audit';
import { Clock } from '@agentauth/core';
import { AuditRepository } from '../libs/audit/src/audit.repository';
import { MIGRATIONS } from '../migrations';

const out = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const EVENTS = Number(process.env.AUDIT_BENCH_EVENTS ?? 20_000);
const CONCURRENCY = Number(process.env.AUDIT_BENCH_CONCURRENCY ?? 32);
const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = `aa_bench_audit_${process.pid}`;

const silentLogger = {
  setContext: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as PinoLogger;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A `token.issued` event as the token endpoint records it (TokenAudit.issued). */
function tokenIssued() {
  const agent = randomUUID();
  return {
    eventType: 'token.issued',
    outcome: 'success' as const,
    actorAgentId: agent,
    onBehalfOf: null,
    rootAgentId: agent,
    targetType: 'token',
    targetId: randomUUID(),
    ip: '127.0.0.1',
    requestId: randomUUID(),
    details: {
      grant_type: 'client_credentials',
      scope: 'agents:read',
      aud: 'http://127.0.0.1:8300',
      jti: randomUUID(),
      exp: Math.floor(Date.now() / 1000) + 900,
      client_auth_method: 'client_secret_basic',
    },
  };
}

/** Runs `total` calls of `one` with `concurrency` in flight; returns CPU µs per call and calls per second. */
async function measure(total: number, one: () => Promise<void>) {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < total) await one();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    cpu_us_per_call: Math.round((cpu.user + cpu.system) / total),
    sys_us_per_call: Math.round(cpu.system / total),
    per_s: Math.round(total / seconds),
  };
}

/** CPU seconds (user + system) of a process so far, from /proc (0 when it cannot be read). */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

async function main(): Promise<void> {
  await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DB_NAME}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  const dataSource = new DataSource({ type: 'postgres', url: url.toString(), migrations: MIGRATIONS });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();
    const repository = new AuditRepository(dataSource);
    const audit = new AuditService(repository, new Clock(), silentLogger, DEFAULT_AUDIT_OPTIONS);
    const batches: number[] = [];
    audit.onBatchCommitted((size) => batches.push(size));

    const nothing = () => Promise.resolve();
    const context = new AsyncLocalStorage<{ request: number }>();
    let request = 0;
    const record = process.env.AUDIT_BENCH_CONTEXT
      ? () => context.run({ request: ++request }, () => audit.record(tokenIssued()))
      : () => audit.record(tokenIssued());
    await measure(2_000, record); // warm-up: JIT, the writer's connection
    batches.length = 0;
    const floor = await measure(EVENTS, nothing);
    const profileFile = process.env.AUDIT_BENCH_PROFILE;
    const session = profileFile ? new Session() : undefined;
    if (session) {
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
      await post(session, 'Profiler.start');
    }
    const [writer] = await dataSource.query<{ pid: number }[]>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'agentauth-audit-writer' AND datname = $1`,
      [DB_NAME],
    );
    const writerCpu0 = writer ? processCpuSeconds(writer.pid) : 0;
    const recorded = await measure(EVENTS, record);
    const writerCpu = writer ? processCpuSeconds(writer.pid) - writerCpu0 : 0;
    if (session && profileFile) {
      const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
      writeFileSync(profileFile, JSON.stringify(profile));
    }
    const mean = batches.reduce((a, b) => a + b, 0) / batches.length;
    out({ bench: 'loop awaiting nothing', concurrency: CONCURRENCY, ...floor });
    out({
      bench: 'audit.record(token.issued)',
      request_context: Boolean(process.env.AUDIT_BENCH_CONTEXT),
      concurrency: CONCURRENCY,
      events: EVENTS,
      ...recorded,
      postgres_writer_cpu_us_per_call: Math.round((writerCpu * 1e6) / EVENTS),
      batches: batches.length,
      mean_batch: Math.round(mean * 10) / 10,
    });
    await audit.onModuleDestroy();
    await repository.onApplicationShutdown();
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
