import { WEEKDAYS, type TimeWindow, type Weekday } from './policy.types';

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** IANA-shaped names (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`, `Etc/GMT+5`); no raw offsets. */
const IANA_SHAPE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const WEEKDAY_BY_SHORT_NAME: Record<string, number> = {
  Mon: 0,
  Tue: 1,
  Wed: 2,
  Thu: 3,
  Fri: 4,
  Sat: 5,
  Sun: 6,
};

/** `HH:MM` → minutes after midnight, or null when not a valid 00:00–23:59 time. */
export function parseClockTime(value: string): number | null {
  if (typeof value !== 'string') return null;
  const match = HH_MM.exec(value);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** A time zone name Intl knows, written the IANA way (a raw offset such as `+02:00` is refused). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length > 64 || !IANA_SHAPE.test(timeZone)) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wall clock of one time zone, read through Intl (tzdb, so DST and historical offsets are right).
 * Caches the last UTC minute it read: every zone in tzdb has whole-minute offsets since long before any
 * instant this service decides, so all instants of one UTC minute share the local minute and weekday, and a
 * busy process pays for `formatToParts` once per zone per minute.
 */
export class ZoneClock {
  private static readonly clocks = new Map<string, ZoneClock>();
  private readonly formatter: Intl.DateTimeFormat;
  private cachedMinute = Number.NaN;
  /** Results of the last `read`: minutes after local midnight and local weekday (0 = Monday). */
  minuteOfDay = 0;
  weekday = 0;

  private constructor(timeZone: string) {
    this.formatter = formatterFor(timeZone);
  }

  static of(timeZone: string): ZoneClock {
    let clock = ZoneClock.clocks.get(timeZone);
    if (!clock) {
      clock = new ZoneClock(timeZone);
      ZoneClock.clocks.set(timeZone, clock);
    }
    return clock;
  }

  /** Sets `minuteOfDay` and `weekday` for the instant `epochMs`. */
  read(epochMs: number): void {
    const minute = Math.floor(epochMs / 60_000);
    if (minute === this.cachedMinute) return;
    let hour = 0;
    let minuteOfHour = 0;
    let weekday = 0;
    for (const part of this.formatter.formatToParts(epochMs)) {
      if (part.type === 'hour')
        hour = Number(part.value) % 24; // some ICU versions render midnight as 24
      else if (part.type === 'minute') minuteOfHour = Number(part.value);
      else if (part.type === 'weekday') weekday = WEEKDAY_BY_SHORT_NAME[part.value] ?? 0;
    }
    this.minuteOfDay = hour * 60 + minuteOfHour;
    this.weekday = weekday;
    this.cachedMinute = minute;
  }
}

/** A validated time window, ready to test instants without parsing anything. */
export class CompiledTimeWindow {
  private readonly clock: ZoneClock;
  private readonly start: number;
  private readonly end: number;
  /** Bit i set = WEEKDAYS[i] allowed. */
  private readonly dayMask: number;

  constructor(window: TimeWindow) {
    const start = parseClockTime(window.start);
    const end = parseClockTime(window.end);
    if (start === null || end === null) throw new Error('invalid time_window start/end');
    if (!isValidTimeZone(window.timezone)) throw new Error('invalid time_window timezone');
    this.clock = ZoneClock.of(window.timezone);
    this.start = start;
    this.end = end;
    let mask = window.days === undefined ? 0x7f : 0;
    for (const day of window.days ?? []) {
      const index = WEEKDAYS.indexOf(day);
      if (index < 0) throw new Error('invalid time_window day');
      mask |= 1 << index;
    }
    this.dayMask = mask;
  }

  /**
   * Is the instant inside the window? Local wall-clock minutes: on a spring-forward day the skipped hour never
   * occurs (a window inside it is empty that day, one spanning it is an hour shorter), on a fall-back day the
   * repeated hour matches both times.
   */
  contains(epochMs: number): boolean {
    this.clock.read(epochMs);
    const minute = this.clock.minuteOfDay;
    let startDay: number;
    if (this.start < this.end) {
      if (minute < this.start || minute >= this.end) return false;
      startDay = this.clock.weekday;
    } else if (minute >= this.start) {
      startDay = this.clock.weekday; // started today, runs past midnight (or a full 24 h when start == end)
    } else if (minute < this.end) {
      startDay = (this.clock.weekday + 6) % 7; // started yesterday
    } else {
      return false;
    }
    return (this.dayMask & (1 << startDay)) !== 0;
  }
}

export function isWeekday(value: unknown): value is Weekday {
  return typeof value === 'string' && (WEEKDAYS as readonly string[]).includes(value);
}
