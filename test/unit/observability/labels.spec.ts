import {
  BoundedLabel,
  grantTypeLabel,
  methodLabel,
  OTHER,
} from '../../../libs/observability/src/bounded-label';

describe('metric label bounds', () => {
  it('keeps known values and accepts new codes only up to the bound, then answers "other"', () => {
    const label = new BoundedLabel(3, ['invalid_client']);
    expect(label.value('invalid_client')).toBe('invalid_client');
    expect(['a', 'b', 'c'].map((v) => label.value(v))).toEqual(['a', 'b', 'c']);
    expect(label.value('d')).toBe(OTHER);
    expect(label.value('a')).toBe('a');
    expect(label.value('invalid_client')).toBe('invalid_client');
  });

  it('refuses values that are not codes (spaces, long strings, empty)', () => {
    const label = new BoundedLabel(10);
    expect(label.value('has space')).toBe(OTHER);
    expect(label.value('x'.repeat(65))).toBe(OTHER);
    expect(label.value('')).toBe(OTHER);
    expect(label.value(undefined)).toBe(OTHER);
    expect(label.value('{"a":1}')).toBe(OTHER);
  });

  it('bounds HTTP methods to the standard ones', () => {
    expect(methodLabel('GET')).toBe('GET');
    expect(methodLabel('PATCH')).toBe('PATCH');
    expect(methodLabel('PROPFIND')).toBe('OTHER');
    expect(methodLabel('get')).toBe('OTHER');
  });

  it('maps every spelling of a grant type to its short name', () => {
    expect(grantTypeLabel('client_credentials')).toBe('client_credentials');
    expect(grantTypeLabel('refresh_token')).toBe('refresh_token');
    expect(grantTypeLabel('urn:agentauth:grant-type:agent_delegation')).toBe('agent_delegation');
    expect(grantTypeLabel('agent_delegation')).toBe('agent_delegation');
    expect(grantTypeLabel('urn:ietf:params:oauth:grant-type:token-exchange')).toBe('token_exchange');
    expect(grantTypeLabel('password')).toBe(OTHER);
  });
});
