import {
  analyzeLogQL,
  interpolateGrafanaVariables,
  logqlBlocks,
  matchesAny,
  regexAlternatives,
  valueMatchers,
} from '../../support/logql';

/** The checker the dashboard test relies on: it must see every field a query uses, and every syntax error. */
describe('LogQL analysis (Grafana lezer grammar)', () => {
  it('finds selector labels, line filters, json fields, label filters, unwrap and groupings', () => {
    const a = analyzeLogQL(
      'topk(5, quantile_over_time(0.95, {service_name="agentauth-api", level=~"info|warn"} |= "request completed" ' +
        '| json msg="msg", route="route", duration_ms="duration_ms" | msg="request completed" | status >= 400 ' +
        '| unwrap duration_ms | __error__="" [5m]) by (method, route))',
    );
    expect(a.errors).toEqual([]);
    expect(a.streamMatchers).toEqual([
      { label: 'service_name', op: '=', value: 'agentauth-api' },
      { label: 'level', op: '=~', value: 'info|warn' },
    ]);
    expect(a.lineFilters).toEqual([{ op: '|=', value: 'request completed' }]);
    expect(a.bareJson).toBe(false);
    expect(a.jsonFields.map((f) => f.path)).toEqual(['msg', 'route', 'duration_ms']);
    expect(a.labelFilters).toEqual([
      { label: 'msg', op: '=', value: 'request completed' },
      { label: 'status', op: '>=', value: '400' },
      { label: '__error__', op: '=', value: '' },
    ]);
    expect(a.unwrapFields).toEqual(['duration_ms']);
    expect(a.groupings).toEqual(['method', 'route']);
  });

  it('lists every equality and regex matcher with its values, stream selector first, ranges left out', () => {
    const a = analyzeLogQL(
      '{service_name=~"agentauth-.+", level!="debug"} | json msg="msg", event_type="event_type" | msg="audit event" ' +
        '| event_type=~"client_auth.failed|token.(issued|revoked)" | outcome!~"success|denied" | status=429 ' +
        '| status != 200 | duration_ms > 1000',
    );
    expect(a.errors).toEqual([]);
    expect(valueMatchers(a).map((m) => [m.label, m.op, m.inSelector, m.alternatives])).toEqual([
      ['service_name', '=~', true, ['agentauth-.+']],
      ['level', '!=', true, ['debug']],
      ['msg', '=', false, ['audit event']],
      ['event_type', '=~', false, ['client_auth.failed', 'token.(issued|revoked)']],
      ['outcome', '!~', false, ['success', 'denied']],
      ['status', '=', false, ['429']],
      ['status', '!=', false, ['200']],
    ]);
  });

  it('splits a regex only at its top-level alternation and matches each alternative anchored', () => {
    expect(regexAlternatives('a|b(c|d)|[|x]|e\\|f')).toEqual(['a', 'b(c|d)', '[|x]', 'e\\|f']);
    expect(regexAlternatives('.+')).toEqual(['.+']);
    expect(regexAlternatives('')).toEqual(['']);
    expect(matchesAny('token.(issued|revoked)', true, ['token.revoked'])).toBe(true);
    expect(matchesAny('rate_limit.exceeded', true, ['rate_limit.exceeded.later'])).toBe(false);
    expect(matchesAny('rate_limit.exceded', true, ['rate_limit.exceeded'])).toBe(false);
    expect(matchesAny('token.issued', false, ['token.issued'])).toBe(true);
    expect(matchesAny('token.issued', false, ['tokenXissued'])).toBe(false);
  });

  it('reports syntax errors', () => {
    expect(analyzeLogQL('sum by (route (count_over_time({a="b"} [5m]))').errors.length).toBeGreaterThan(0);
    expect(analyzeLogQL('{a="b"} | json | status >= ').errors.length).toBeGreaterThan(0);
    expect(analyzeLogQL('rate({a="b"} [$__auto])').errors.length).toBeGreaterThan(0);
  });

  it('refuses stages whose field use it cannot see', () => {
    expect(analyzeLogQL('{a="b"} | logfmt').errors).toEqual([expect.stringContaining('LogfmtParser')]);
    expect(analyzeLogQL('{a="b"} | json | line_format "{{.route}}"').errors).toEqual([
      expect.stringContaining('LineFormatExpr'),
    ]);
  });

  it('interpolates Grafana variables and refuses unknown ones', () => {
    expect(interpolateGrafanaVariables('rate({e=~"$environment"} [$__auto])', { environment: '.+' })).toBe(
      'rate({e=~".+"} [1m])',
    );
    expect(interpolateGrafanaVariables('x [${__range}]', {})).toBe('x [1h]');
    expect(() => interpolateGrafanaVariables('{a="$nope"}', {})).toThrow(/unknown Grafana variable/);
  });

  it('extracts ```logql blocks from Markdown', () => {
    const md = 'text\n```logql\n{a="b"}\n```\n```sh\nls\n```\n```logql\nrate({a="b"} [5m])\n```\n';
    expect(logqlBlocks(md)).toEqual(['{a="b"}', 'rate({a="b"} [5m])']);
  });
});
