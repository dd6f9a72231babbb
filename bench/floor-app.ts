/**
 * The `nest_express_floor` of `make bench` (docs/performance.md): a bare Nest 11 + @nestjs/platform-express
 * app, nothing registered but one controller, serving the same static JSON as AgentAuth's discovery route
 * (`GET /.well-known/oauth-authorization-server`, body read from FLOOR_BODY_FILE, else a discovery-sized
 * stand-in) with the same Cache-Control header. Express's defaults are left as they are (that is the floor
 * a Nest-Express app starts from). `FLOOR_WORKERS` processes through node:cluster, like API_WORKERS.
 *
 * Env: PORT (8302), HOST (127.0.0.1), FLOOR_BODY_FILE, FLOOR_WORKERS (1). Prints `listening` when ready.
 */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { Controller, Get, Header, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadBody } from './floor-body';

const BODY = loadBody();

@Controller('.well-known')
class FloorController {
  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  metadata(): unknown {
    return BODY;
  }
}

@Module({ controllers: [FloorController] })
class FloorModule {}

async function serve(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(FloorModule, { logger: false });
  await app.listen(Number(process.env.PORT ?? 8302), process.env.HOST ?? '127.0.0.1');
  process.stdout.write('listening\n');
}

const workers = Number(process.env.FLOOR_WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork({ ...process.env, FLOOR_QUIET: '1' });
    worker.on('message', (m) => {
      if (m === 'ready' && ++ready === workers) process.stdout.write('listening\n');
    });
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else if (process.env.FLOOR_QUIET === '1') {
  void NestFactory.create<NestExpressApplication>(FloorModule, { logger: false }).then(async (app) => {
    await app.listen(Number(process.env.PORT ?? 8302), process.env.HOST ?? '127.0.0.1');
    process.send?.('ready');
  });
} else {
  void serve();
}
