import {
  canonicalEventParts,
  canonicalEventText,
  canonicalJson,
  eventHash,
  GENESIS_HASH,
  linkEvents,
  type PendingAuditEvent,
  type RecordedAuditEvent,
  verificationReport,
  verifyChain,
} from '../../../libs/audit/src/audit-chain';

const golden: PendingAuditEvent = {
  id: '0b7e7c1e-3f0a-4c1e-9a53-6f1d2a3b4c5d',
  occurredAt: '2026-01-02T03:04:05.006Z',
  eventType: 'credential.rotated',
  outcome: 'success',
  actorAgentId: '11111111-1111-4111-8111-111111111111',
  onBehalfOf: null,
  targetType: 'credential',
  targetId: '33333333-3333-4333-8333-333333333333',
  rootAgentId: '22222222-2222-4222-8222-222222222222',
  ip: '203.0.113.7',
  requestId: 'req-1',
  details: { reason: 'scheduled', grace_period_seconds: 30, nested: { b: 1.5, a: [true, null, 'é"\\'] } },
};

function event(n: number): PendingAuditEvent {
  return { ...golden, id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, details: { n } };
}

/** An in-memory table served page by page, as the repository does. */
function pages(rows: RecordedAuditEvent[]) {
  const calls: number[] = [];
  const fetch = async (afterSeq: number, limit: number) => {
    calls.push(afterSeq);
    return rows.filter((r) => r.seq > afterSeq).slice(0, limit);
  };
  return { fetch, calls };
}

describe('canonical form (docs/audit.md "Chain format")', () => {
  it('is the JCS text documented, byte for byte, and its SHA-256 (checked with an independent implementation)', () => {
    // Both values were produced by Python's json.dumps(sort_keys=True, separators=(",", ":"),
    // ensure_ascii=False) + hashlib.sha256, which agree with RFC 8785 for this content.
    expect(canonicalEventText(golden, 7, 'ab'.repeat(32))).toBe(
      '{"actor_agent_id":"11111111-1111-4111-8111-111111111111","details":{"grace_period_seconds":30,"nested":{"a":[true,null,"é\\"\\\\"],"b":1.5},"reason":"scheduled"},"event_type":"credential.rotated","id":"0b7e7c1e-3f0a-4c1e-9a53-6f1d2a3b4c5d","ip":"203.0.113.7","occurred_at":"2026-01-02T03:04:05.006Z","on_behalf_of":null,"outcome":"success","prev_hash":"abababababababababababababababababababababababababababababababab","request_id":"req-1","root_agent_id":"22222222-2222-4222-8222-222222222222","seq":7,"target_id":"33333333-3333-4333-8333-333333333333","target_type":"credential"}',
    );
    expect(eventHash(golden, 7, 'ab'.repeat(32))).toBe(
      'bd2e3fb161601d9d2fe3a34b9400f9aa77cb2f9e9b1a262b5fc0df2b291c1d39',
    );
  });

  it('does not depend on the order of keys', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('sorts member names by UTF-16 code units and writes numbers the ECMAScript way', () => {
    expect(canonicalJson({ '\u00e9': 1, z: 2, Z: 3, '\ud83d\ude00': 4, '\uffff': 5 })).toBe(
      '{"Z":3,"z":2,"é":1,"😀":4,"\uffff":5}',
    );
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 100])).toBe('[1e+21,1e-7,0.1,0,100]');
  });

  it('refuses what JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });

  it('covers every field: changing any one changes the hash', () => {
    const base = eventHash(golden, 7, GENESIS_HASH);
    const changes: Partial<PendingAuditEvent>[] = [
      { id: '0b7e7c1e-3f0a-4c1e-9a53-6f1d2a3b4c5e' },
      { occurredAt: '2026-01-02T03:04:05.007Z' },
      { eventType: 'credential.revoked' },
      { outcome: 'failure' },
      { actorAgentId: null },
      { onBehalfOf: '11111111-1111-4111-8111-111111111111' },
      { targetType: 'agent' },
      { targetId: null },
      { rootAgentId: null },
      { ip: '203.0.113.8' },
      { requestId: 'req-2' },
      { details: { ...golden.details, reason: 'manual' } },
    ];
    for (const change of changes) expect(eventHash({ ...golden, ...change }, 7, GENESIS_HASH)).not.toBe(base);
    expect(eventHash(golden, 8, GENESIS_HASH)).not.toBe(base);
    expect(eventHash(golden, 7, 'ab'.repeat(32))).not.toBe(base);
  });
});

describe('linkEvents', () => {
  it('starts at seq 1 after the genesis hash and links each event to the previous one', () => {
    const chain = linkEvents(null, [event(1), event(2), event(3)]);
    expect(chain.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(chain[0].prevHash).toBe(GENESIS_HASH);
    expect(chain[1].prevHash).toBe(chain[0].hash);
    expect(chain[2].prevHash).toBe(chain[1].hash);
    for (const e of chain) expect(e.hash).toBe(eventHash(e, e.seq, e.prevHash));
  });

  it('continues from a head, so batches chain into one line', () => {
    const first = linkEvents(null, [event(1), event(2)]);
    const second = linkEvents({ seq: 2, hash: first[1].hash }, [event(3)]);
    expect(second[0]).toMatchObject({ seq: 3, prevHash: first[1].hash });
    expect(linkEvents(null, [event(1), event(2), event(3)])[2].hash).toBe(second[0].hash);
  });
});

describe('verifyChain', () => {
  const chain = linkEvents(
    null,
    Array.from({ length: 10 }, (_, i) => event(i + 1)),
  );

  it('accepts an intact chain, walking it page by page', async () => {
    const p = pages(chain);
    await expect(verifyChain(p.fetch, 3)).resolves.toEqual({
      valid: true,
      checked: 10,
      last_seq: 10,
      last_hash: chain[9].hash,
    });
    expect(p.calls).toEqual([0, 3, 6, 9]);
  });

  it('accepts an empty chain', async () => {
    await expect(verifyChain(pages([]).fetch)).resolves.toEqual({
      valid: true,
      checked: 0,
      last_seq: 0,
      last_hash: GENESIS_HASH,
    });
  });

  it('names an event whose content was altered', async () => {
    const tampered = chain.map((e) => (e.seq === 6 ? { ...e, details: { n: 600 } } : e));
    await expect(verifyChain(pages(tampered).fetch, 4)).resolves.toMatchObject({
      valid: false,
      checked: 6,
      first_broken_seq: 6,
      first_broken_id: chain[5].id,
      reason: 'hash_mismatch',
      last_seq: 5,
    });
  });

  it('names the event after a deleted one', async () => {
    const holed = chain.filter((e) => e.seq !== 4);
    await expect(verifyChain(pages(holed).fetch)).resolves.toMatchObject({
      valid: false,
      first_broken_seq: 5,
      reason: 'seq_gap',
    });
  });

  it('names an event re-hashed after alteration (its successor no longer links to it)', async () => {
    const forged = chain.map((e) => {
      if (e.seq !== 3) return e;
      const changed = { ...e, outcome: 'failure' as const };
      return { ...changed, hash: eventHash(changed, changed.seq, changed.prevHash) };
    });
    await expect(verifyChain(pages(forged).fetch)).resolves.toMatchObject({
      valid: false,
      first_broken_seq: 4,
      reason: 'prev_hash_mismatch',
    });
  });

  it('refuses a chain that does not start at seq 1', async () => {
    await expect(verifyChain(pages(chain.slice(1)).fetch)).resolves.toMatchObject({
      valid: false,
      first_broken_seq: 2,
      reason: 'seq_gap',
    });
  });

  describe('a range (GET /audit/verify?from_seq=&to_seq=)', () => {
    const tampered = chain.map((e) => (e.seq === 6 ? { ...e, details: { n: 600 } } : e));

    it('verifies from_seq…to_seq only, linked to the event before from_seq', async () => {
      await expect(verifyChain(pages(tampered).fetch, 2, { fromSeq: 2, toSeq: 5 })).resolves.toEqual({
        valid: true,
        checked: 4,
        last_seq: 5,
        last_hash: chain[4].hash,
      });
      await expect(verifyChain(pages(tampered).fetch, 2, { fromSeq: 4 })).resolves.toMatchObject({
        valid: false,
        checked: 3,
        first_broken_seq: 6,
      });
      await expect(verifyChain(pages(tampered).fetch, 100, { fromSeq: 7 })).resolves.toEqual({
        valid: true,
        checked: 4,
        last_seq: 10,
        last_hash: chain[9].hash,
      });
    });

    it('still sees a first event of the range that does not link to the one before it', async () => {
      const forged = chain.map((e) => (e.seq === 5 ? { ...e, prevHash: GENESIS_HASH } : e));
      await expect(verifyChain(pages(forged).fetch, 10, { fromSeq: 5, toSeq: 5 })).resolves.toMatchObject({
        valid: false,
        checked: 1,
        first_broken_seq: 5,
        reason: 'prev_hash_mismatch',
      });
    });

    it('checks nothing beyond the end of the chain', async () => {
      await expect(verifyChain(pages(chain).fetch, 10, { fromSeq: 50 })).resolves.toEqual({
        valid: true,
        checked: 0,
        last_seq: 0,
        last_hash: GENESIS_HASH,
      });
    });
  });

  it('reports in the shape of GET /audit/verify', () => {
    expect(
      verificationReport({
        valid: false,
        checked: 6,
        first_broken_seq: 6,
        first_broken_id: 'id-6',
        reason: 'hash_mismatch',
        last_seq: 5,
        last_hash: 'h5',
      }),
    ).toEqual({
      verified: false,
      events_checked: 6,
      first_broken_event: { seq: 6, id: 'id-6', reason: 'hash_mismatch' },
      last_verified_seq: 5,
      last_verified_hash: 'h5',
    });
    expect(verificationReport({ valid: true, checked: 3, last_seq: 3, last_hash: 'h3' })).toEqual({
      verified: true,
      events_checked: 3,
      last_verified_seq: 3,
      last_verified_hash: 'h3',
    });
  });
});

describe('canonicalEventParts', () => {
  it('splits the canonical text exactly around prev_hash and seq, for any content', () => {
    const variants: Partial<PendingAuditEvent>[] = [
      {},
      { actorAgentId: null, targetId: null, targetType: null, requestId: null, rootAgentId: null },
      { details: { z: 1, a: ['x', { q: null }], é: 'ünï', '"quoted"': '\u0000\n' } },
      { targetType: 'agent', targetId: 'id "with" quotes', ip: '2001:db8::1', requestId: 'req-1' },
      // Every text column alone null or set to text that needs escaping (the parts are written column by column).
      ...(
        ['actorAgentId', 'onBehalfOf', 'targetType', 'targetId', 'rootAgentId', 'ip', 'requestId'] as const
      ).flatMap((column) =>
        [null, '', 'é"\\\n\t\u2028😀', '</script>', '\u007f\u0001'].map((value, i) => ({
          [column]: value,
          eventType: i % 2 ? 'a.b' : golden.eventType,
          outcome: i % 2 ? ('failure' as const) : ('denied' as const),
          details: i % 2 ? {} : { [String(value)]: [value, { z: i, y: -0 }] },
        })),
      ),
    ];
    expect(variants.length).toBe(4 + 7 * 5);
    for (const variant of variants) {
      const e = { ...golden, ...variant };
      const { head, middle, tail } = canonicalEventParts(e);
      expect(`${head}${'cd'.repeat(32)}${middle}${42}${tail}`).toBe(
        canonicalJson({
          actor_agent_id: e.actorAgentId,
          details: e.details,
          event_type: e.eventType,
          id: e.id,
          ip: e.ip,
          occurred_at: e.occurredAt,
          on_behalf_of: e.onBehalfOf,
          outcome: e.outcome,
          prev_hash: 'cd'.repeat(32),
          request_id: e.requestId,
          root_agent_id: e.rootAgentId,
          seq: 42,
          target_id: e.targetId,
          target_type: e.targetType,
        }),
      );
    }
  });
});
