import { validate } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { decodeCursor, encodeCursor, parseTimestamp, toPage } from '@agentauth/core';
import { pathInSubtree } from '../../../libs/agents/src/tree-visibility';
import { CreateAgentDto } from '../../../libs/agents/src/dto/create-agent.dto';
import { UpdateAgentDto } from '../../../libs/agents/src/dto/update-agent.dto';
import { exceedsDepth } from '../../../libs/core/src/http/body-parsers';

describe('cursor', () => {
  it('round-trips a keyset', () => {
    const keyset = {
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      id: '0b7e9e3e-5d0c-4f63-9d7e-2f1c8e1a2b3c',
    };
    expect(decodeCursor(encodeCursor(keyset))).toEqual(keyset);
  });

  it.each([
    ['', 'empty'],
    ['!!!', 'not base64url'],
    [Buffer.from('not json').toString('base64url'), 'not JSON'],
    [Buffer.from('[]').toString('base64url'), 'not an object'],
    [Buffer.from('{"t":"2026-01-02T03:04:05.678Z","i":"x"}').toString('base64url'), 'bad id'],
    [
      Buffer.from('{"t":"yesterday","i":"0b7e9e3e-5d0c-4f63-9d7e-2f1c8e1a2b3c"}').toString('base64url'),
      'bad time',
    ],
    [Buffer.from('{"t":"\'; DROP TABLE agents;--"}').toString('base64url'), 'SQL'],
  ])('refuses %j (%s) with a validation problem', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(
      expect.objectContaining({ status: 400, code: 'validation_error' }),
    );
  });

  it('pages limit+1 rows into items and a cursor of the last item', () => {
    const rows = [1, 2, 3].map((n) => ({
      id: `00000000-0000-4000-8000-00000000000${n}`,
      createdAt: new Date(n),
    }));
    const page = toPage(rows, 2, (r) => r.id);
    expect(page.items).toEqual([rows[0].id, rows[1].id]);
    expect(decodeCursor(page.next_cursor as string)).toEqual({
      createdAt: rows[1].createdAt,
      id: rows[1].id,
    });
    expect(toPage(rows.slice(0, 2), 2, (r) => r.id).next_cursor).toBeNull();
  });
});

describe('parseTimestamp', () => {
  it.each([
    '2026-01-02T03:04:05Z',
    '2026-01-02T03:04:05.123Z',
    '2026-01-02T03:04:05+02:00',
    '2028-02-29T00:00Z',
  ])('accepts %s', (value) => expect(parseTimestamp(value)).toBeInstanceOf(Date));
  it.each([
    '2026-01-02',
    '2026-01-02T03:04:05',
    '2026-02-30T00:00:00Z',
    '2027-02-29T00:00:00Z',
    'tomorrow',
    '1969-12-31T23:59:59Z',
  ])('refuses %s', (value) => expect(parseTimestamp(value)).toBeUndefined());
});

describe('pathInSubtree', () => {
  it('is a range on the path column (index-friendly), not a LIKE on a run-time pattern', () => {
    expect(pathInSubtree('a', 's')).toBe(`(a.path >= s.path AND a.path < (s.path || '~'))`);
  });
});

describe('exceedsDepth', () => {
  it('measures nesting without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(exceedsDepth(deep, 32)).toBe(true);
    expect(exceedsDepth({ a: { b: [1, { c: 2 }] } }, 32)).toBe(false);
  });
});

describe('agent DTOs', () => {
  async function errors(cls: new () => object, body: object): Promise<string[]> {
    const result = await validate(plainToInstance(cls, body), {
      whitelist: true,
      forbidNonWhitelisted: true,
    });
    return result.map((e) => e.property);
  }

  it('refuse the fields that never change and `root` as a trust level', async () => {
    expect(await errors(UpdateAgentDto, { trust_level: 'root' })).toEqual(['trust_level']);
    expect(await errors(UpdateAgentDto, { parent_agent_id: '0b7e9e3e-5d0c-4f63-9d7e-2f1c8e1a2b3c' })).toEqual(
      ['parent_agent_id'],
    );
    expect(await errors(UpdateAgentDto, { root_agent_id: 'x', depth: 0, id: 'y' })).toEqual(
      expect.arrayContaining(['root_agent_id', 'depth', 'id']),
    );
    expect(await errors(CreateAgentDto, { name: 'x', trust_level: 'root' })).toEqual(['trust_level']);
  });

  it('refuse null where a value is required but accept null to clear descriptions', async () => {
    expect(await errors(UpdateAgentDto, { name: null })).toEqual(['name']);
    expect(await errors(UpdateAgentDto, { capabilities: null, metadata: null })).toEqual([
      'capabilities',
      'metadata',
    ]);
    expect(await errors(UpdateAgentDto, { description: null, version: null, expires_at: null })).toEqual([]);
  });

  it('bound metadata size and content', async () => {
    expect(await errors(CreateAgentDto, { name: 'x', metadata: { a: 'x'.repeat(16 * 1024) } })).toEqual([
      'metadata',
    ]);
    expect(await errors(CreateAgentDto, { name: 'x', metadata: { a: 'nul\u0000' } })).toEqual(['metadata']);
    expect(await errors(CreateAgentDto, { name: 'x', metadata: { a: '\ud800' } })).toEqual(['metadata']);
    expect(await errors(CreateAgentDto, { name: 'x', metadata: [] })).toEqual(['metadata']);
    expect(await errors(CreateAgentDto, { name: 'x', metadata: { nested: { ok: [1, 'two'] } } })).toEqual([]);
  });
});
