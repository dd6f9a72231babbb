import {
  normalizePolicySubject,
  parsePolicySubject,
  subjectAgentIds,
  validatePolicyInput,
} from '@agentauth/policies';
import { A, A1, B } from './policy-fixtures';

const valid = {
  name: 'no deletes at night',
  description: 'ops rule',
  effect: 'deny',
  subjects: [A1, `agent:${A}/*`, 'trust_level:ephemeral', '*'],
  actions: ['files:delete', 'crm.*'],
  resources: ['https://api.example.com/*'],
  conditions: {
    ip_cidrs: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1'],
    time_window: { start: '22:00', end: '06:00', timezone: 'Europe/Berlin', days: ['mon', 'fri'] },
    max_delegation_depth: 0,
  },
  priority: 10,
  enabled: true,
};

const fields = (input: unknown, partial = false) =>
  validatePolicyInput(input, { partial }).map((e) => e.field);

describe('policy input validation', () => {
  it('accepts a complete valid policy and a minimal one', () => {
    expect(validatePolicyInput(valid)).toEqual([]);
    expect(validatePolicyInput({ name: 'n', effect: 'allow', subjects: ['*'], actions: ['*'] })).toEqual([]);
    expect(validatePolicyInput({ ...valid, conditions: {}, description: null })).toEqual([]);
  });

  it('requires name, effect, subjects and actions on create, nothing on PATCH', () => {
    expect(fields({})).toEqual(['name', 'effect', 'subjects', 'actions']);
    expect(validatePolicyInput({}, { partial: true })).toEqual([]);
    expect(fields({ priority: 1.5 }, true)).toEqual(['priority']);
  });

  it('refuses anything but an object', () => {
    for (const input of [null, [], 'x', 3]) expect(fields(input)).toEqual(['']);
  });

  it.each([
    ['name', { name: '   ' }],
    ['name', { name: 'x'.repeat(201) }],
    ['name', { name: 7 }],
    ['description', { description: 'x'.repeat(1001) }],
    ['effect', { effect: 'maybe' }],
    ['subjects', { subjects: [] }],
    ['subjects', { subjects: '*' }],
    ['subjects.1', { subjects: ['*', 'agent:not-a-uuid/*'] }],
    ['subjects.0', { subjects: [`agent:${A}`] }],
    ['subjects.0', { subjects: ['trust_level:admin'] }],
    ['subjects.0', { subjects: [42] }],
    ['subjects', { subjects: Array.from({ length: 101 }, () => '*') }],
    ['actions', { actions: [] }],
    ['actions.0', { actions: [''] }],
    ['actions.0', { actions: ['files read'] }],
    ['actions.0', { actions: ['x'.repeat(257)] }],
    ['resources.0', { resources: ['ok', 'tab\there'].slice(1) }],
    ['conditions', { conditions: [] }],
    ['conditions.ip_cidr', { conditions: { ip_cidr: ['10.0.0.0/8'] } }],
    ['conditions.ip_cidrs.1', { conditions: { ip_cidrs: ['10.0.0.0/8', '10.0.0.0/33'] } }],
    ['conditions.ip_cidrs.0', { conditions: { ip_cidrs: ['2001:db8::/129'] } }],
    ['conditions.ip_cidrs.0', { conditions: { ip_cidrs: ['example.com'] } }],
    ['conditions.ip_cidrs', { conditions: { ip_cidrs: [] } }],
    ['conditions.max_delegation_depth', { conditions: { max_delegation_depth: -1 } }],
    ['conditions.max_delegation_depth', { conditions: { max_delegation_depth: 1.5 } }],
    ['conditions.max_delegation_depth', { conditions: { max_delegation_depth: '2' } }],
    ['conditions.time_window', { conditions: { time_window: 'nights' } }],
    [
      'conditions.time_window.start',
      { conditions: { time_window: { ...valid.conditions.time_window, start: '24:00' } } },
    ],
    [
      'conditions.time_window.end',
      { conditions: { time_window: { ...valid.conditions.time_window, end: '6:00' } } },
    ],
    [
      'conditions.time_window.timezone',
      { conditions: { time_window: { ...valid.conditions.time_window, timezone: 'Mars/Base' } } },
    ],
    [
      'conditions.time_window.timezone',
      { conditions: { time_window: { ...valid.conditions.time_window, timezone: '+02:00' } } },
    ],
    [
      'conditions.time_window.days',
      { conditions: { time_window: { ...valid.conditions.time_window, days: [] } } },
    ],
    [
      'conditions.time_window.days.1',
      { conditions: { time_window: { ...valid.conditions.time_window, days: ['mon', 'Monday'] } } },
    ],
    [
      'conditions.time_window.tz',
      { conditions: { time_window: { ...valid.conditions.time_window, tz: 'UTC' } } },
    ],
    ['priority', { priority: 1.5 }],
    ['priority', { priority: 2_147_483_648 }],
    ['priority', { priority: '1' }],
    ['enabled', { enabled: 'yes' }],
    ['owner_agent_id', { owner_agent_id: A }],
  ])('reports %s', (field, override) => {
    const errors = validatePolicyInput({ ...valid, ...override });
    expect(errors.map((e) => e.field)).toEqual([field]);
    expect(errors[0].message.length).toBeGreaterThan(0);
  });

  it('accepts priority bounds and every weekday', () => {
    expect(validatePolicyInput({ ...valid, priority: -2_147_483_648 })).toEqual([]);
    expect(validatePolicyInput({ ...valid, priority: 2_147_483_647 })).toEqual([]);
    const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    expect(
      validatePolicyInput({
        ...valid,
        conditions: { time_window: { ...valid.conditions.time_window, days } },
      }),
    ).toEqual([]);
  });
});

describe('subjects', () => {
  it('parses the four forms', () => {
    expect(parsePolicySubject('*')).toEqual({ kind: 'everyone' });
    expect(parsePolicySubject(A1)).toEqual({ kind: 'agent', agentId: A1 });
    expect(parsePolicySubject(`agent:${A}/*`)).toEqual({ kind: 'subtree', agentId: A });
    expect(parsePolicySubject('trust_level:root')).toEqual({ kind: 'trust_level', trustLevel: 'root' });
    for (const bad of [
      '',
      '**',
      `agent:${A}`,
      `agent:${A}/**`,
      `${A}/*`,
      'trust_level:',
      'trust_level:Root',
      'agents',
    ]) {
      expect(parsePolicySubject(bad)).toBeNull();
    }
  });

  it('normalizes to the stored spelling', () => {
    expect(normalizePolicySubject(A1.toUpperCase())).toBe(A1);
    expect(normalizePolicySubject(`agent:${A.toUpperCase()}/*`)).toBe(`agent:${A}/*`);
    expect(normalizePolicySubject('trust_level:ephemeral')).toBe('trust_level:ephemeral');
    expect(normalizePolicySubject('*')).toBe('*');
    expect(normalizePolicySubject('nope')).toBeNull();
  });

  it('lists the agent ids the API must find in the caller’s subtree', () => {
    expect(
      subjectAgentIds([A1, `agent:${A}/*`, '*', 'trust_level:root', A1.toUpperCase(), `agent:${B}/*`]),
    ).toEqual([A1, A, B]);
  });
});
