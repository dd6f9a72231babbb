import { type AuditEvent, eventHash, GENESIS_HASH, verifyChain } from '../../../apps/cli/src/audit-chain';
import { agentTree, renderTree } from '../../../apps/cli/src/commands/agents';
import { flatten } from '../../../apps/cli/src/commands/stats';
import { decodeJwt } from '../../../apps/cli/src/commands/token';
import { redact, table } from '../../../apps/cli/src/output';
import { duration } from '../../../apps/cli/src/parse';

/** docs/audit.md "Chain format": the published example event and its hash. */
const DOC_EVENT: AuditEvent = {
  actor_agent_id: '11111111-1111-4111-8111-111111111111',
  details: { grace_period_seconds: 30, nested: { a: [true, null, 'é"\\'], b: 1.5 }, reason: 'scheduled' },
  event_type: 'credential.rotated',
  id: '0b7e7c1e-3f0a-4c1e-9a53-6f1d2a3b4c5d',
  ip: '203.0.113.7',
  occurred_at: '2026-01-02T03:04:05.006Z',
  on_behalf_of: null,
  outcome: 'success',
  prev_hash: 'ab'.repeat(32),
  request_id: 'req-1',
  root_agent_id: '22222222-2222-4222-8222-222222222222',
  seq: 7,
  target_id: '33333333-3333-4333-8333-333333333333',
  target_type: 'credential',
  hash: '',
};

describe('CLI helpers', () => {
  it('hashes an audit event exactly as docs/audit.md publishes', () => {
    expect(eventHash(DOC_EVENT)).toBe('bd2e3fb161601d9d2fe3a34b9400f9aa77cb2f9e9b1a262b5fc0df2b291c1d39');
  });

  it('verifies a chain and names the first broken link', () => {
    const first = { ...DOC_EVENT, seq: 1, prev_hash: GENESIS_HASH };
    first.hash = eventHash(first);
    const second = { ...DOC_EVENT, id: 'e2', seq: 2, prev_hash: first.hash };
    second.hash = eventHash(second);
    expect(verifyChain([first, second])).toEqual({
      valid: true,
      checked: 2,
      last_seq: 2,
      last_hash: second.hash,
    });
    expect(verifyChain([first, { ...second, outcome: 'failure' }])).toMatchObject({
      valid: false,
      first_broken_seq: 2,
      reason: 'hash_mismatch',
      last_seq: 1,
    });
    expect(verifyChain([second])).toMatchObject({ valid: false, reason: 'seq_gap' });
    expect(verifyChain([first, { ...second, prev_hash: GENESIS_HASH }])).toMatchObject({
      reason: 'prev_hash_mismatch',
    });
  });

  it('renders tables with aligned columns and dashes for empty cells', () => {
    expect(
      table(
        [
          { id: 'a', scopes: ['x', 'y'], n: null },
          { id: 'bbb', scopes: [], n: 2 },
        ],
        ['id', 'scopes', 'n'],
      ),
    ).toBe('ID   SCOPES  N\na    x,y     -\nbbb  -       2');
  });

  it('draws the agent hierarchy', () => {
    const agent = (id: string, parent: string | null, status = 'active') =>
      ({
        id,
        name: id,
        parent_agent_id: parent,
        trust_level: parent ? 'delegated' : 'root',
        status,
      }) as never;
    const tree = agentTree([
      agent('r', null),
      agent('a', 'r'),
      agent('b', 'r', 'suspended'),
      agent('c', 'a'),
    ]);
    expect(renderTree(tree)).toBe(
      ['r (r) root', '├─ a (a) delegated', '│  └─ c (c) delegated', '└─ b (b) delegated [suspended]'].join(
        '\n',
      ),
    );
  });

  it('hides secrets unless asked, flattens stats, parses durations, decodes JWTs without verifying', () => {
    expect(redact({ id: 1, api_key: 's' }, ['api_key'], false)).toEqual({ id: 1 });
    expect(redact({ id: 1, api_key: 's' }, ['api_key'], true)).toEqual({ id: 1, api_key: 's' });
    expect(flatten({ a: { b: 1, c: { d: 2 } }, e: [1] })).toEqual({ 'a.b': 1, 'a.c.d': 2, e: [1] });
    expect([duration('90s'), duration('15m'), duration('2h'), duration('7d')]).toEqual([
      90, 900, 7200, 604800,
    ]);
    expect(() => duration('2w')).toThrow('duration');
    const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.sig`;
    expect(decodeJwt(jwt)).toEqual({ header: { alg: 'RS256' }, claims: { sub: 'x' } });
    expect(() => decodeJwt('a.b')).toThrow('not a JWT');
  });
});
