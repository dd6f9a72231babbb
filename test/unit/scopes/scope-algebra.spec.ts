import {
  BUILT_IN_SCOPES,
  MAX_SCOPE_LENGTH,
  OFFLINE_ACCESS,
  covers,
  coveredBy,
  formatScopeParam,
  intersect,
  isSubset,
  isValidScopeName,
  isWildcard,
  normalize,
  parseScopeParam,
  parseScopeRequest,
  uncovered,
} from '@agentauth/scopes';

describe('scope names', () => {
  it.each([
    'files:read',
    'files:*',
    'files:read:*',
    'crm.contacts:write',
    'billing-v2:invoices_read',
    'a',
    'a1:b2:c3',
    '0day:x',
    'a.b.c:d',
    'tokens:introspect',
  ])('accepts %s', (name) => {
    expect(isValidScopeName(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['bare wildcard', '*'],
    ['wildcard not last', '*:read'],
    ['wildcard in the middle', 'files:*:read'],
    ['double wildcard', 'files:*:*'],
    ['partial wildcard', 'files:re*'],
    ['dot wildcard', 'crm.*'],
    ['upper case', 'Files:read'],
    ['empty segment', 'files::read'],
    ['leading colon', ':files'],
    ['trailing colon', 'files:'],
    ['double dot', 'crm..contacts:read'],
    ['leading dot', '.crm:read'],
    ['trailing dot', 'crm.:read'],
    ['leading hyphen', '-files:read'],
    ['leading underscore', '_files:read'],
    ['space', 'files read'],
    ['tab', 'files:\tread'],
    ['slash', 'files/read'],
    ['unicode', 'fïles:read'],
    ['reserved offline_access', OFFLINE_ACCESS],
  ])('refuses %s', (_label, name) => {
    expect(isValidScopeName(name)).toBe(false);
  });

  it('bounds the length at MAX_SCOPE_LENGTH', () => {
    expect(MAX_SCOPE_LENGTH).toBe(128);
    expect(isValidScopeName('a'.repeat(MAX_SCOPE_LENGTH))).toBe(true);
    expect(isValidScopeName('a'.repeat(MAX_SCOPE_LENGTH + 1))).toBe(false);
    expect(isValidScopeName(`${'a'.repeat(MAX_SCOPE_LENGTH - 2)}:*`)).toBe(true);
    expect(isValidScopeName(`${'a'.repeat(MAX_SCOPE_LENGTH - 1)}:*`)).toBe(false);
  });

  it('refuses non-strings without throwing', () => {
    expect(isValidScopeName(undefined as unknown as string)).toBe(false);
    expect(isValidScopeName(42 as unknown as string)).toBe(false);
  });

  it('recognises wildcards by their final * segment', () => {
    expect(isWildcard('files:*')).toBe(true);
    expect(isWildcard('files:read:*')).toBe(true);
    expect(isWildcard('files:read')).toBe(false);
    expect(isWildcard('*')).toBe(false);
  });
});

describe('built-in scopes and offline_access', () => {
  it('lists exactly the CONTRACT §5 scopes, all valid names and none a wildcard', () => {
    expect([...BUILT_IN_SCOPES]).toEqual([
      'agents:read',
      'agents:write',
      'credentials:read',
      'credentials:write',
      'delegations:read',
      'delegations:write',
      'policies:read',
      'policies:write',
      'resource-servers:read',
      'resource-servers:write',
      'scopes:read',
      'scopes:write',
      'tokens:introspect',
      'webhooks:read',
      'webhooks:write',
    ]);
    for (const scope of BUILT_IN_SCOPES) {
      expect(isValidScopeName(scope)).toBe(true);
      expect(isWildcard(scope)).toBe(false);
    }
  });

  it('keeps offline_access out of every scope relation', () => {
    expect(OFFLINE_ACCESS).toBe('offline_access');
    expect(isValidScopeName(OFFLINE_ACCESS)).toBe(false);
    expect(coveredBy(OFFLINE_ACCESS, [...BUILT_IN_SCOPES])).toBe(false);
  });
});

describe('covers', () => {
  it.each([
    ['files:read', 'files:read', true],
    ['files:*', 'files:read', true],
    ['files:*', 'files:read:own', true],
    ['files:*', 'files:read:*', true],
    ['files:*', 'files:*', true],
    ['files:read:*', 'files:read:own', true],
    ['files:*', 'files', false],
    ['files:read:*', 'files:read', false],
    ['files:read:*', 'files:*', false],
    ['files:read', 'files:*', false],
    ['files:read', 'files:read:own', false],
    ['files:*', 'filesystem:read', false],
    ['files:*', 'file:read', false],
    ['file:*', 'files:read', false],
    ['crm.contacts:*', 'crm.contacts:write', true],
    ['crm:*', 'crm.contacts:write', false],
    ['files:read', 'files:write', false],
    ['*', 'files:read', false],
  ])('covers(%s, %s) = %s', (a, b, expected) => {
    expect(covers(a, b)).toBe(expected);
  });
});

describe('set relations', () => {
  it('coveredBy, isSubset and uncovered agree', () => {
    const granted = ['files:*', 'agents:read'];
    expect(coveredBy('files:write', granted)).toBe(true);
    expect(coveredBy('agents:write', granted)).toBe(false);
    expect(coveredBy('files:read', [])).toBe(false);
    expect(isSubset(['files:read', 'agents:read'], granted)).toBe(true);
    expect(isSubset(['files:read', 'agents:write'], granted)).toBe(false);
    expect(isSubset([], granted)).toBe(true);
    expect(isSubset([], [])).toBe(true);
    expect(isSubset(['files:read'], [])).toBe(false);
    expect(uncovered(['files:read', 'agents:write', 'crm:read'], granted)).toEqual([
      'agents:write',
      'crm:read',
    ]);
    expect(uncovered(['files:*'], ['files:read'])).toEqual(['files:*']);
  });

  it.each([
    [['files:*'], ['files:read'], ['files:read']],
    [['files:read'], ['files:*'], ['files:read']],
    [['files:*'], ['files:*'], ['files:*']],
    [['files:*', 'agents:read'], ['files:read:*', 'agents:write'], ['files:read:*']],
    [['files:read', 'files:write'], ['files:write', 'crm:read'], ['files:write']],
    [['files:*'], ['crm:*'], []],
    [[], ['files:read'], []],
    [
      ['a:*', 'a:b:*'],
      ['a:b:c', 'a:x'],
      ['a:b:c', 'a:x'],
    ],
    [['files:read:own'], ['files:*', 'files:read:*'], ['files:read:own']],
  ])('intersect(%j, %j) = %j', (a, b, expected) => {
    expect(intersect(a, b)).toEqual(expected);
  });

  it('normalizes: sorted, unique, without covered members', () => {
    expect(normalize(['files:read', 'files:*', 'agents:read', 'agents:read', 'files:read:*'])).toEqual([
      'agents:read',
      'files:*',
    ]);
    expect(normalize(['b:x', 'a:x'])).toEqual(['a:x', 'b:x']);
    expect(normalize([])).toEqual([]);
    expect(normalize(['files'])).toEqual(['files']);
    expect(normalize(['files', 'files:*'])).toEqual(['files', 'files:*']);
  });
});

describe('scope parameter', () => {
  it('parses RFC 6749 space-separated lists', () => {
    expect(parseScopeParam('files:read agents:read')).toEqual(['files:read', 'agents:read']);
    expect(parseScopeParam('  files:read   files:read  agents:read ')).toEqual(['files:read', 'agents:read']);
    expect(parseScopeParam('')).toEqual([]);
    expect(parseScopeParam('   ')).toEqual([]);
    expect(parseScopeParam(undefined)).toEqual([]);
    expect(parseScopeParam(null)).toEqual([]);
    // Only U+0020 separates; a tab stays inside the token and the token fails validation.
    expect(parseScopeParam('files:read\tagents:read')).toEqual(['files:read\tagents:read']);
    expect(isValidScopeName('files:read\tagents:read')).toBe(false);
  });

  it('splits offline_access off a token request', () => {
    expect(parseScopeRequest('files:read offline_access')).toEqual({
      scopes: ['files:read'],
      offlineAccess: true,
    });
    expect(parseScopeRequest('offline_access')).toEqual({ scopes: [], offlineAccess: true });
    expect(parseScopeRequest('files:read')).toEqual({ scopes: ['files:read'], offlineAccess: false });
    expect(parseScopeRequest(undefined)).toEqual({ scopes: [], offlineAccess: false });
    expect(parseScopeRequest('OFFLINE_ACCESS')).toEqual({ scopes: ['OFFLINE_ACCESS'], offlineAccess: false });
  });

  it('formats a list as the space-separated parameter', () => {
    expect(formatScopeParam(['files:read', 'agents:read'])).toBe('files:read agents:read');
    expect(formatScopeParam([])).toBe('');
  });
});
