import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { INestApplication } from '@nestjs/common';
import type { TestApp } from '../../support/app';
import { API, type Caller } from '../../factories/agents';

export { listeningApp } from '../../support/app';

/**
 * Registers `identifier` as a resource server of the caller's tree (CONTRACT §8): the only way it can be the
 * RFC 8707 `resource` of a grant, and the `aud` of the tokens issued for it.
 */
export async function aResourceServer(
  t: TestApp,
  caller: Caller,
  identifier: string,
  scopes: string[],
  extra: { dpop_required?: boolean; agent_id?: string } = {},
): Promise<{ id: string; identifier: string }> {
  const res = await request(t.http)
    .post(`${API}/resource-servers`)
    .set(caller.auth)
    .send({ identifier, name: `sdk-test ${identifier}`, scopes, ...extra });
  if (res.status !== 201) {
    throw new Error(`register resource server: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as { id: string; identifier: string };
}

/** A node:http server (an Express or Nest handler) on an ephemeral loopback port. */
export async function listen(
  handler: http.RequestListener,
): Promise<{ base: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** A Nest app listening on an ephemeral loopback port. */
export async function listenNest(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** A fetch that counts the requests to each path. */
export function countingFetch(): { fetch: typeof fetch; count(pathSuffix: string): number } {
  const seen: string[] = [];
  return {
    fetch: (input, init) => {
      seen.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return fetch(input, init);
    },
    count: (suffix) => seen.filter((u) => new URL(u).pathname.endsWith(suffix)).length,
  };
}
