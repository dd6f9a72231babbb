import { Controller, Get, Head, Header, HttpCode, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { installLeanJsonReply, PreserializedJson } from '@agentauth/core';

const DOCUMENT = { issuer: 'https://as.example', list: [1, 'two', null, { ü: 'ß ✓' }], nested: { a: true } };

@Controller()
class RepliesController {
  @Get('object')
  object(): unknown {
    return DOCUMENT;
  }

  @Get('array')
  array(): unknown {
    return [DOCUMENT, 2];
  }

  @Get('preserialized')
  preserialized(): PreserializedJson {
    return new PreserializedJson(DOCUMENT);
  }

  @Get('string')
  string(): string {
    return 'plain text';
  }

  @Get('nothing')
  nothing(): undefined {
    return undefined;
  }

  @Get('no-content')
  @HttpCode(204)
  noContent(): unknown {
    return DOCUMENT;
  }

  @Get('created')
  @HttpCode(201)
  created(): unknown {
    return { id: 'x' };
  }

  @Get('own-type')
  @Header('Content-Type', 'application/jwk-set+json')
  ownType(): unknown {
    return { keys: [] };
  }

  @Head('head')
  head(): unknown {
    return DOCUMENT;
  }
}

@Module({ controllers: [RepliesController] })
class RepliesModule {}

/** How many times each app's routes went through Express's `res.json`. */
const resJsonCalls = { nest: 0, lean: 0 };

async function startApp(lean: boolean): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(RepliesModule, { logger: false });
  app.set('etag', false);
  app.use((_req: unknown, res: { json: (...args: unknown[]) => unknown }, next: () => void) => {
    const json = res.json.bind(res);
    res.json = (...args: unknown[]) => {
      resJsonCalls[lean ? 'lean' : 'nest']++;
      return json(...args);
    };
    next();
  });
  if (lean) installLeanJsonReply(app.getHttpAdapter() as ExpressAdapter);
  await app.init();
  return app;
}

const PATHS = ['/object', '/array', '/string', '/nothing', '/no-content', '/created', '/own-type'];

describe('lean JSON replies (installed by configureApiApp)', () => {
  let nest: INestApplication;
  let lean: INestApplication;

  beforeAll(async () => {
    nest = await startApp(false);
    lean = await startApp(true);
  });

  afterAll(async () => {
    await nest.close();
    await lean.close();
  });

  it.each(PATHS)('GET %s: the same status, headers and bytes as Nest + Express res.json', async (path) => {
    const expected = await request(nest.getHttpServer()).get(path).buffer(true);
    const actual = await request(lean.getHttpServer()).get(path).buffer(true);
    expect(actual.status).toBe(expected.status);
    for (const header of ['content-type', 'content-length', 'transfer-encoding']) {
      expect(actual.headers[header]).toBe(expected.headers[header]);
    }
    expect(actual.text).toBe(expected.text);
  });

  it('answers objects and arrays without Express res.json (the lean path is taken)', async () => {
    const before = { ...resJsonCalls };
    await request(nest.getHttpServer()).get('/object').expect(200);
    await request(lean.getHttpServer()).get('/object').expect(200);
    await request(lean.getHttpServer()).get('/array').expect(200);
    await request(lean.getHttpServer()).get('/created').expect(201);
    expect(resJsonCalls.nest - before.nest).toBe(1);
    expect(resJsonCalls.lean - before.lean).toBe(0);
  });

  it('writes a preserialized document exactly as res.json writes the value', async () => {
    const expected = await request(nest.getHttpServer()).get('/object');
    const actual = await request(lean.getHttpServer()).get('/preserialized');
    expect(actual.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(actual.headers['content-length']).toBe(expected.headers['content-length']);
    expect(actual.text).toBe(expected.text);
    // Through Nest's own path (res.json) it serialises to the same document.
    const viaExpress = await request(nest.getHttpServer()).get('/preserialized');
    expect(viaExpress.text).toBe(expected.text);
  });

  it('sends no body to HEAD, with the length a GET would have', async () => {
    const get = await request(lean.getHttpServer()).get('/object');
    const head = await request(lean.getHttpServer()).head('/head');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.text ?? '').toBe('');
  });
});
