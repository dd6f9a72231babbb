import {
  forbiddenAddressReason,
  ipv6Groups,
  parseWebhookUrl,
  type ResolvedAddress,
  vetWebhookTarget,
  WebhookTargetRefused,
} from '@agentauth/webhooks';

describe('forbiddenAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared address space'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::a00:1', 'not global unicast'],
    ['::127.0.0.1', 'not global unicast'],
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::1', '6to4'],
    ['2001:0:4136:e378::1', 'IETF protocol assignment'],
    ['not-an-ip', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
  ])('accepts the public address %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });
});

describe('ipv6Groups', () => {
  it('expands compressed and dotted forms', () => {
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups('2001:db8::8:800:200c:417a')).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
  });
  it.each(['1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::1', '1:2:3:4:5:6:7'])('rejects %s', (bad) => {
    expect(ipv6Groups(bad)).toBeUndefined();
  });
});

describe('parseWebhookUrl', () => {
  it('normalises numeric IPv4 host forms to the address they denote', () => {
    expect(parseWebhookUrl('http://2130706433/x').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://0x7f.1/').hostname).toBe('127.0.0.1');
    expect(parseWebhookUrl('http://017700000001/').hostname).toBe('127.0.0.1');
  });
  it.each([
    ['ftp://example.com/', /http and https/],
    ['file:///etc/passwd', /http and https/],
    ['gopher://example.com/', /http and https/],
    ['https://user:pw@example.com/', /credentials/],
    ['https://', /not a valid/],
    ['/relative', /not a valid/],
    [`https://example.com/${'a'.repeat(2048)}`, /2048/],
  ])('refuses %s', (url, reason) => {
    expect(() => parseWebhookUrl(url)).toThrow(reason);
  });
  it('accepts http and https', () => {
    expect(parseWebhookUrl('https://hooks.example.com:8443/a?b=c').port).toBe('8443');
  });
});

describe('vetWebhookTarget', () => {
  const fixed = (answer: ResolvedAddress[]) => async (): Promise<ResolvedAddress[]> => answer;
  const calls: string[] = [];
  const recording = async (host: string) => {
    calls.push(host);
    return [{ address: '93.184.216.34', family: 4 }];
  };

  it('returns the first address when every resolved address is public', async () => {
    const answer = [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ];
    await expect(vetWebhookTarget(new URL('https://a.example/'), fixed(answer), false)).resolves.toEqual(
      answer[0],
    );
  });

  it('refuses when any resolved address is not public', async () => {
    const answer = [
      { address: '93.184.216.34', family: 4 },
      { address: 'fd00::5', family: 6 },
    ];
    await expect(vetWebhookTarget(new URL('https://a.example/'), fixed(answer), false)).rejects.toThrow(
      /fd00::5.*unique-local/,
    );
  });

  it('refuses names that do not resolve', async () => {
    const failing = async () => Promise.reject(new Error('ENOTFOUND'));
    await expect(vetWebhookTarget(new URL('https://nowhere.example/'), failing, true)).rejects.toBeInstanceOf(
      WebhookTargetRefused,
    );
    await expect(vetWebhookTarget(new URL('https://nowhere.example/'), fixed([]), false)).rejects.toThrow(
      /resolved/,
    );
  });

  it('judges IP literals without resolving, and localhost names without asking DNS', async () => {
    calls.length = 0;
    await expect(vetWebhookTarget(new URL('http://[::1]/'), recording, false)).rejects.toThrow(/loopback/);
    await expect(vetWebhookTarget(new URL('http://LOCALHOST./'), recording, false)).rejects.toThrow(
      /loopback/,
    );
    await expect(vetWebhookTarget(new URL('http://8.8.8.8/'), recording, false)).resolves.toEqual({
      address: '8.8.8.8',
      family: 4,
    });
    expect(calls).toEqual([]);
  });

  it('skips the address rules when private targets are allowed', async () => {
    await expect(vetWebhookTarget(new URL('http://127.0.0.1:9/'), recording, true)).resolves.toEqual({
      address: '127.0.0.1',
      family: 4,
    });
    await expect(
      vetWebhookTarget(
        new URL('http://internal.example/'),
        fixed([{ address: '10.0.0.7', family: 4 }]),
        true,
      ),
    ).resolves.toEqual({ address: '10.0.0.7', family: 4 });
  });
});
