import { identifierProblems } from '@agentauth/resource-servers';

const base = { publicBaseUrl: 'https://auth.example.com', production: false };

describe('resource server identifier rule (CONTRACT §8)', () => {
  it.each([
    'https://files.example.com/mcp',
    'https://files.example.com',
    'https://files.example.com:8443/a?b=c',
    'http://localhost:3000/mcp',
    'http://127.0.0.1/mcp',
    'http://[::1]:9/x',
    'https://auth.example.com:8443/mcp', // another origin (port) of the same host
  ])('accepts %s outside production', (identifier) => {
    expect(identifierProblems(identifier, base)).toEqual([]);
  });

  it.each([['http://localhost:3000/mcp'], ['http://127.0.0.1/mcp']])(
    'refuses http %s in production',
    (identifier) => {
      expect(identifierProblems(identifier, { ...base, production: true })).toHaveLength(1);
    },
  );

  it.each([
    'files.example.com',
    'https://files.example.com/#x',
    'https://files.example.com/a b',
    'http://files.example.com/',
    'http://10.0.0.1/',
    'ws://files.example.com/',
    'urn:isbn:123',
    'https://u@files.example.com/',
    'https://auth.example.com/mcp',
    'https://auth.example.com',
    'https://é.example.com/',
    `https://x.example.com/${'a'.repeat(512)}`,
    '',
  ])('refuses %s', (identifier) => {
    const problems = identifierProblems(identifier, base);
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('identifier');
  });
});
