import { CompiledTimeWindow, isValidTimeZone, parseClockTime, type TimeWindow } from '@agentauth/policies';

const MINUTE = 60_000;

function windowOf(start: string, end: string, timezone: string, days?: TimeWindow['days']) {
  return new CompiledTimeWindow({ start, end, timezone, days });
}

/** UTC instants (ISO strings, minute precision) inside the window between two instants, end exclusive. */
function minutesInside(window: CompiledTimeWindow, fromIso: string, toIso: string): string[] {
  const inside: string[] = [];
  for (let t = Date.parse(fromIso); t < Date.parse(toIso); t += MINUTE) {
    if (window.contains(t)) inside.push(new Date(t).toISOString().slice(0, 16));
  }
  return inside;
}

const at = (iso: string) => Date.parse(iso);

describe('clock times and zones', () => {
  it('parses HH:MM between 00:00 and 23:59', () => {
    expect(parseClockTime('00:00')).toBe(0);
    expect(parseClockTime('09:30')).toBe(570);
    expect(parseClockTime('23:59')).toBe(1439);
    for (const bad of ['24:00', '9:30', '09:60', '09:3', '0930', ' 09:30', '09:30 ', '-1:00', '']) {
      expect(parseClockTime(bad)).toBeNull();
    }
  });

  it('knows IANA zones and refuses the rest', () => {
    for (const zone of [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'America/Argentina/Buenos_Aires',
      'Etc/GMT+5',
    ]) {
      expect(isValidTimeZone(zone)).toBe(true);
    }
    for (const zone of ['Mars/Olympus', '+02:00', 'GMT+2:00', '', 'Europe/', '/Berlin', 'Europe Berlin']) {
      expect(isValidTimeZone(zone)).toBe(false);
    }
  });
});

describe('time windows', () => {
  it('start is inclusive and end exclusive, in the zone', () => {
    const window = windowOf('09:00', '17:00', 'Europe/Berlin'); // CEST = UTC+2 in June
    expect(window.contains(at('2026-06-01T06:59:59.999Z'))).toBe(false);
    expect(window.contains(at('2026-06-01T07:00:00.000Z'))).toBe(true);
    expect(window.contains(at('2026-06-01T14:59:59.999Z'))).toBe(true);
    expect(window.contains(at('2026-06-01T15:00:00.000Z'))).toBe(false);
  });

  it('crosses midnight (22:00–06:00)', () => {
    const window = windowOf('22:00', '06:00', 'UTC');
    expect(window.contains(at('2026-06-01T21:59:00Z'))).toBe(false);
    expect(window.contains(at('2026-06-01T22:00:00Z'))).toBe(true);
    expect(window.contains(at('2026-06-01T23:59:59Z'))).toBe(true);
    expect(window.contains(at('2026-06-02T00:00:00Z'))).toBe(true);
    expect(window.contains(at('2026-06-02T05:59:59Z'))).toBe(true);
    expect(window.contains(at('2026-06-02T06:00:00Z'))).toBe(false);
    expect(window.contains(at('2026-06-02T12:00:00Z'))).toBe(false);
  });

  it('treats start == end as a full 24 hours', () => {
    const window = windowOf('00:00', '00:00', 'UTC', ['sat', 'sun']);
    expect(minutesInside(window, '2026-06-05T00:00Z', '2026-06-09T00:00Z')).toHaveLength(2 * 24 * 60); // Sat+Sun
    expect(window.contains(at('2026-06-05T23:59:59Z'))).toBe(false); // Friday
    expect(window.contains(at('2026-06-06T00:00:00Z'))).toBe(true); // Saturday
    expect(window.contains(at('2026-06-07T23:59:59Z'))).toBe(true); // Sunday
    expect(window.contains(at('2026-06-08T00:00:00Z'))).toBe(false); // Monday
  });

  it('filters on the weekday in the zone, not in UTC', () => {
    // 2026-06-01 is a Monday. 23:30 UTC Monday is already Tuesday 01:30 in Berlin.
    const tuesdays = windowOf('00:00', '12:00', 'Europe/Berlin', ['tue']);
    expect(tuesdays.contains(at('2026-06-01T23:30:00Z'))).toBe(true);
    expect(tuesdays.contains(at('2026-06-01T21:30:00Z'))).toBe(false); // Monday 23:30 local
    const mondays = windowOf('00:00', '12:00', 'America/New_York', ['mon']);
    expect(mondays.contains(at('2026-06-02T03:00:00Z'))).toBe(false); // Monday 23:00 local: outside hours
    expect(mondays.contains(at('2026-06-01T15:59:00Z'))).toBe(true); // Monday 11:59 local
    expect(mondays.contains(at('2026-06-01T16:00:00Z'))).toBe(false); // Monday 12:00 local
  });

  it('a midnight-crossing window filters on the day it started', () => {
    // 2026-06-05 is a Friday. Friday night 22:00 → Saturday 06:00.
    const fridayNights = windowOf('22:00', '06:00', 'UTC', ['fri']);
    expect(fridayNights.contains(at('2026-06-05T22:00:00Z'))).toBe(true); // Fri 22:00
    expect(fridayNights.contains(at('2026-06-06T03:00:00Z'))).toBe(true); // Sat 03:00, started Friday
    expect(fridayNights.contains(at('2026-06-06T06:00:00Z'))).toBe(false); // Sat 06:00, end exclusive
    expect(fridayNights.contains(at('2026-06-05T03:00:00Z'))).toBe(false); // Fri 03:00, started Thursday
    expect(fridayNights.contains(at('2026-06-06T22:30:00Z'))).toBe(false); // Sat 22:30, started Saturday
    const sundayNights = windowOf('22:00', '06:00', 'UTC', ['sun']);
    expect(sundayNights.contains(at('2026-06-08T01:00:00Z'))).toBe(true); // Mon 01:00, started Sunday (wraps)
  });

  it('every weekday is recognised', () => {
    const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
    days.forEach((day, i) => {
      const window = windowOf('12:00', '13:00', 'UTC', [day]);
      // 2026-06-01 is a Monday.
      for (let d = 0; d < 7; d++) {
        const noon = at(`2026-06-0${1 + d}T12:30:00Z`);
        expect(window.contains(noon)).toBe(d === i);
      }
    });
  });

  it('keeps zones apart when instants of one minute are read in several zones', () => {
    const berlin = windowOf('12:00', '13:00', 'Europe/Berlin');
    const newYork = windowOf('12:00', '13:00', 'America/New_York');
    const utc = windowOf('12:00', '13:00', 'UTC');
    const t = at('2026-06-01T10:30:00Z'); // Berlin 12:30, New York 06:30, UTC 10:30
    for (let i = 0; i < 3; i++) {
      expect(berlin.contains(t + i)).toBe(true);
      expect(newYork.contains(t + i)).toBe(false);
      expect(utc.contains(t + i)).toBe(false);
    }
    expect(newYork.contains(at('2026-06-01T16:30:00Z'))).toBe(true);
    expect(berlin.contains(at('2026-06-01T16:30:00Z'))).toBe(false);
  });

  it('refuses invalid definitions', () => {
    expect(() => windowOf('24:00', '01:00', 'UTC')).toThrow();
    expect(() => windowOf('01:00', '02:00', 'Nowhere/Land')).toThrow();
    expect(() => windowOf('01:00', '02:00', 'UTC', ['funday' as 'mon'])).toThrow();
  });
});

describe('DST change days', () => {
  describe('Europe/Berlin', () => {
    // Spring forward 2026-03-29: 02:00 CET (01:00Z) jumps to 03:00 CEST. Fall back 2026-10-25: 03:00 CEST
    // (01:00Z) falls back to 02:00 CET.
    it('spring forward: the skipped hour never happens, a window spanning it is an hour shorter', () => {
      const skipped = windowOf('02:00', '03:00', 'Europe/Berlin');
      expect(minutesInside(skipped, '2026-03-28T22:00Z', '2026-03-29T22:00Z')).toEqual([]);
      expect(skipped.contains(at('2026-03-29T00:59:59Z'))).toBe(false); // 01:59:59 CET
      expect(skipped.contains(at('2026-03-29T01:00:00Z'))).toBe(false); // 03:00:00 CEST
      const night = windowOf('01:00', '04:00', 'Europe/Berlin');
      expect(minutesInside(night, '2026-03-28T22:00Z', '2026-03-29T22:00Z')).toHaveLength(120);
      expect(minutesInside(night, '2026-03-27T22:00Z', '2026-03-28T22:00Z')).toHaveLength(180);
    });

    it('spring forward: a later window moves an hour earlier in UTC', () => {
      const morning = windowOf('08:00', '09:00', 'Europe/Berlin');
      expect(morning.contains(at('2026-03-28T07:00:00Z'))).toBe(true); // Saturday, CET
      expect(morning.contains(at('2026-03-28T06:59:59Z'))).toBe(false);
      expect(morning.contains(at('2026-03-29T05:59:59Z'))).toBe(false); // Sunday, CEST
      expect(morning.contains(at('2026-03-29T06:00:00Z'))).toBe(true);
      expect(morning.contains(at('2026-03-29T06:59:59Z'))).toBe(true);
      expect(morning.contains(at('2026-03-29T07:00:00Z'))).toBe(false);
    });

    it('fall back: the repeated hour matches both times', () => {
      const repeated = windowOf('02:00', '03:00', 'Europe/Berlin');
      const inside = minutesInside(repeated, '2026-10-24T22:00Z', '2026-10-25T23:00Z');
      expect(inside).toHaveLength(120);
      expect(inside[0]).toBe('2026-10-25T00:00'); // 02:00 CEST
      expect(inside[119]).toBe('2026-10-25T01:59'); // 02:59 CET
      expect(repeated.contains(at('2026-10-25T02:00:00Z'))).toBe(false); // 03:00 CET
      const morning = windowOf('08:00', '09:00', 'Europe/Berlin');
      expect(morning.contains(at('2026-10-25T07:00:00Z'))).toBe(true); // CET
      expect(morning.contains(at('2026-10-25T06:59:59Z'))).toBe(false);
    });

    it('a midnight-crossing window on the change night keeps its days rule', () => {
      const saturdayNight = windowOf('22:00', '06:00', 'Europe/Berlin', ['sat']);
      // Saturday 2026-03-28 22:00 CET = 21:00Z until Sunday 06:00 CEST = 04:00Z: 7 hours of real time.
      const inside = minutesInside(saturdayNight, '2026-03-28T12:00Z', '2026-03-29T12:00Z');
      expect(inside).toHaveLength(7 * 60);
      expect(inside[0]).toBe('2026-03-28T21:00');
      expect(inside[inside.length - 1]).toBe('2026-03-29T03:59');
    });
  });

  describe('America/New_York', () => {
    // Spring forward 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT. Fall back 2026-11-01: 02:00 EDT
    // (06:00Z) falls back to 01:00 EST.
    it('spring forward', () => {
      const skipped = windowOf('02:00', '03:00', 'America/New_York');
      expect(minutesInside(skipped, '2026-03-08T04:00Z', '2026-03-09T04:00Z')).toEqual([]);
      const night = windowOf('01:00', '04:00', 'America/New_York');
      expect(minutesInside(night, '2026-03-08T04:00Z', '2026-03-09T04:00Z')).toHaveLength(120);
      const morning = windowOf('09:00', '10:00', 'America/New_York');
      expect(morning.contains(at('2026-03-07T14:00:00Z'))).toBe(true); // EST
      expect(morning.contains(at('2026-03-08T13:00:00Z'))).toBe(true); // EDT
      expect(morning.contains(at('2026-03-08T12:59:59Z'))).toBe(false);
      expect(morning.contains(at('2026-03-08T14:00:00Z'))).toBe(false);
    });

    it('fall back', () => {
      const repeated = windowOf('01:00', '02:00', 'America/New_York');
      const inside = minutesInside(repeated, '2026-11-01T04:00Z', '2026-11-02T05:00Z');
      expect(inside).toHaveLength(120);
      expect(inside[0]).toBe('2026-11-01T05:00'); // 01:00 EDT
      expect(inside[119]).toBe('2026-11-01T06:59'); // 01:59 EST
      const evening = windowOf('17:00', '18:00', 'America/New_York', ['sun']);
      expect(evening.contains(at('2026-11-01T22:00:00Z'))).toBe(true); // Sunday 17:00 EST
      expect(evening.contains(at('2026-11-01T21:59:59Z'))).toBe(false);
    });
  });
});
