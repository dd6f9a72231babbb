/**
 * Benchmark (not a test) of the rate limiter's added latency. `npm run bench:ratelimit`
 * (REDIS_URL, default redis://127.0.0.1:6379/0; keys live under `aa:bench:<pid>:` and are deleted at the end).
 *
 * 1. Service level: 10 000 `consume()` calls at concurrency 32 against real Redis (1 000 agents × limit 600,
 *    then one hot bucket that refuses), next to a PING at the same concurrency (the network floor).
 * 2. HTTP level: autocannon against a Bearer route of a minimal Nest app, with and without the guard, once
 *    saturated (throughput) and once at a fixed rate below saturation (added latency without queueing).
 * 3. Memory: `MEMORY USAGE` of a bucket holding 5, 128 and 600 requests.
 */
import 'reflect-metadata';
import * as os from 'node:os';
import { Controller, Get, Global, Injectable, Module, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import type { PinoLogger } from 'nestjs-pino';
import { AuditService } from '@agentauth/audit';
import {
  Auth,
  AuthGuard,
  BEARER_AUTHENTICATOR,
  type BearerAuthenticator,
  ClientIpResolver,
  Clock,
  configureApiApp,
  ConfigModule,
  CurrentPrincipal,
  loadConfig,
  LoggingModule,
  type Principal,
  readEnvironment,
  redisOptions,
  RedisModule,
  RequestObservers,
} from '@agentauth/core';
import {
  agentBucket,
  bucketKeys,
  MINUTE_MS,
  NoRateLimitOverrides,
  RateLimiterService,
  RateLimitGuard,
  RateLimitModule,
} from '@agentauth/ratelimit';

const CALLS = 10_000;
const CONCURRENCY = 32;
const AGENTS = 1_000;
const HTTP_SECONDS = 10;
/** Below saturation on a small machine: latency without queueing. */
const FIXED_RATE = 300;
const env = readEnvironment();
const prefix = `aa:bench:${process.pid}:`;
const config = loadConfig({
  ENVIRONMENT: 'test',
  REDIS_URL: env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  REDIS_KEY_PREFIX: prefix,
  SECRET_KEY: 'bench-secret-key-that-is-long-enough-0123456789',
  ADMIN_API_KEY: 'bench-admin-key-that-is-long-enough-0123456789',
  LOG_LEVEL: 'error',
  RATE_LIMIT_AGENT_PER_MINUTE: '600',
});
const agentIds = Array.from(
  { length: AGENTS },
  (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
);

const out = (line: string) => process.stdout.write(`${line}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(
  label: string,
  call: (i: number) => Promise<unknown>,
  concurrency = CONCURRENCY,
  calls = CALLS,
): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        await call(i);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  out(
    `| ${label} | ${concurrency} | ${percentile(latencies, 50).toFixed(3)} | ${percentile(latencies, 99).toFixed(3)} | ${Math.round(calls / seconds).toLocaleString('en')} |`,
  );
}

async function serviceLevel(redis: Redis): Promise<void> {
  const noAudit = { record: async () => undefined } as unknown as AuditService;
  const quietLogger = {
    setContext: () => undefined,
    debug: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  } as unknown as PinoLogger;
  const limiter = new RateLimiterService(
    redis,
    config,
    new NoRateLimitOverrides(),
    new Clock(),
    noAudit,
    quietLogger,
  );
  let refused = 0;
  await limiter.consumeAgent(agentIds[0]); // loads the script on this connection
  out(`\n### Service level: ${CALLS.toLocaleString('en')} calls per row (2,000 sequential)\n`);
  out('| operation | concurrency | p50 ms | p99 ms | calls/s |');
  out('|---|---|---|---|---|');
  await measure('PING (network + Redis floor)', () => redis.ping(), 1, 2_000);
  await measure(
    `consume() over ${AGENTS} agents (allowed)`,
    (i) => limiter.consume(agentBucket(agentIds[i % AGENTS]), 600, MINUTE_MS),
    1,
    2_000,
  );
  await measure('PING (network + Redis floor)', () => redis.ping());
  await measure(`consume() over ${AGENTS} agents, limit 600/min (allowed)`, (i) =>
    limiter.consume(agentBucket(agentIds[i % AGENTS]), 600, MINUTE_MS),
  );
  await measure('consume() on one full bucket, limit 600/min (refused)', async () => {
    const result = await limiter.consume('agent:hot', 600, MINUTE_MS);
    if (!result.allowed) refused++;
  });
  out(
    `\n(${refused.toLocaleString('en')} of ${CALLS.toLocaleString('en')} hot-bucket calls refused; ${limiter.failOpenCount} failed open)`,
  );
}

async function memory(redis: Redis): Promise<void> {
  out('\n### Memory per bucket (MEMORY USAGE, bytes)\n');
  out('| requests in window | log key | per request |');
  out('|---|---|---|');
  for (const n of [5, 128, 600]) {
    const { log } = bucketKeys(`agent:memory-${n}`);
    const now = Date.now();
    const members: (string | number)[] = [];
    for (let i = 0; i < n; i++) members.push(now - i, `AbCdEfGh${i.toString(36)}`);
    await redis.zadd(log, ...members);
    // MEMORY USAGE takes no keyPrefix from ioredis: name the key in full
    const bytes = Number(await redis.call('MEMORY', 'USAGE', `${prefix}${log}`));
    out(`| ${n} | ${bytes} | ${(bytes / n).toFixed(1)} |`);
  }
}

/** Time spent inside the rate-limit guard per request (its whole added latency, Redis round trip included). */
const guardTimes: number[] = [];
const originalCanActivate = RateLimitGuard.prototype.canActivate;
RateLimitGuard.prototype.canActivate = async function timed(this: RateLimitGuard, context) {
  const t0 = process.hrtime.bigint();
  try {
    return await originalCanActivate.call(this, context);
  } finally {
    guardTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
};

@Injectable()
class BenchAuthenticator implements BearerAuthenticator {
  async authenticate(bearer: string): Promise<Principal> {
    const id = bearer.slice('agent-'.length);
    return { actorAgentId: id, subjectAgentId: id, rootAgentId: id, scopes: [] };
  }
}

@Controller('bench')
class BenchController {
  @Auth({ scopes: [] })
  @Get('agent')
  agent(@CurrentPrincipal() principal: Principal) {
    return { agent_id: principal.actorAgentId };
  }
}

@Global()
@Module({
  imports: [ConfigModule.forRoot(config), LoggingModule.forRoot('agentauth-bench'), RedisModule],
  controllers: [BenchController],
  providers: [
    Clock,
    ClientIpResolver,
    RequestObservers,
    { provide: BEARER_AUTHENTICATOR, useClass: BenchAuthenticator },
    { provide: AuditService, useValue: { record: async () => undefined } },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [Clock, ClientIpResolver, RequestObservers, AuditService],
})
class BenchBaseModule {}

@Module({ imports: [BenchBaseModule] })
class WithoutLimiter {}

@Module({ imports: [BenchBaseModule, RateLimitModule.forRoot()] })
class WithLimiter {}

async function httpLevel(module: Type, label: string, overallRate?: number): Promise<void> {
  const app = await NestFactory.create(module, { bodyParser: false, logger: false, abortOnError: false });
  configureApiApp(app);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  let i = 0;
  const run = (duration: number) =>
    autocannon({
      url: `${url.replace('[::1]', '127.0.0.1')}${config.apiPrefix}/bench/agent`,
      connections: CONCURRENCY,
      duration,
      ...(overallRate ? { overallRate } : {}),
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, authorization: `Bearer agent-${agentIds[i++ % AGENTS]}` },
          }),
        },
      ],
    });
  await run(2); // warm-up
  guardTimes.length = 0;
  const result = await run(HTTP_SECONDS);
  const inGuard = [...guardTimes].sort((a, b) => a - b);
  const guardColumns = inGuard.length
    ? `${percentile(inGuard, 50).toFixed(3)} | ${percentile(inGuard, 99).toFixed(3)}`
    : '– | –';
  await app.close();
  const non2xx = result.non2xx;
  out(
    `| ${label}${overallRate ? ` @ ${overallRate} req/s` : ' (saturated)'} | ${result.latency.p50} | ${result.latency.p99} | ${Math.round(result.requests.average).toLocaleString('en')} | ${non2xx} | ${guardColumns} |`,
  );
}

async function main(): Promise<void> {
  const redis = new Redis(config.redisUrl!, redisOptions(config));
  try {
    out(
      `Rate-limiter benchmark — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    await serviceLevel(redis);
    await memory(redis);
    out(
      `\n### HTTP level: autocannon, ${CONCURRENCY} connections, ${HTTP_SECONDS} s, Bearer route, ${AGENTS} agents (same process)\n`,
    );
    out('| app | p50 ms | p99 ms | req/s | non-2xx | in limiter p50 ms | in limiter p99 ms |');
    out('|---|---|---|---|---|---|---|');
    await httpLevel(WithoutLimiter, 'auth guard only');
    await httpLevel(WithLimiter, 'auth guard + rate-limit guard');
    await httpLevel(WithoutLimiter, 'auth guard only', FIXED_RATE);
    await httpLevel(WithLimiter, 'auth guard + rate-limit guard', FIXED_RATE);
  } finally {
    let cursor = '0';
    const raw = new Redis(config.redisUrl!);
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    raw.disconnect();
    redis.disconnect();
    out(
      `\nload average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
