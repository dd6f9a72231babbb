import { isValidCidr, type FieldError } from '@agentauth/core';
import { parsePolicySubject } from './policy-subject';
import { POLICY_EFFECTS, WEEKDAYS } from './policy.types';
import { isValidTimeZone, parseClockTime } from './time-window';

/** Bounds on what one policy may hold (keeps a tree's compiled set and each decision small). */
export const POLICY_LIMITS = {
  nameLength: 200,
  descriptionLength: 1000,
  listItems: 100,
  globLength: 256,
  ipCidrs: 100,
  priorityMin: -2_147_483_648,
  priorityMax: 2_147_483_647,
  maxDelegationDepth: 2_147_483_647,
} as const;

/** Values the API fills in when a create request omits them. */
export const POLICY_DEFAULTS = { resources: ['*'], conditions: {}, priority: 0, enabled: true } as const;

const TOP_LEVEL_FIELDS = new Set([
  'name',
  'description',
  'effect',
  'subjects',
  'actions',
  'resources',
  'conditions',
  'priority',
  'enabled',
]);
const REQUIRED_ON_CREATE = ['name', 'effect', 'subjects', 'actions'];
const CONDITION_FIELDS = new Set(['ip_cidrs', 'time_window', 'max_delegation_depth']);
const TIME_WINDOW_FIELDS = new Set(['start', 'end', 'timezone', 'days']);
/** Printable ASCII without spaces: scope names, URIs and `*`. */
const GLOB_CHARS = /^[\x21-\x7e]+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function unknownFields(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
  errors: FieldError[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key))
      errors.push({ field: path ? `${path}.${key}` : key, message: 'is not a known field' });
  }
}

function validateList(
  value: unknown,
  field: string,
  errors: FieldError[],
  maxItems: number,
  item: (entry: unknown, path: string) => string | null,
): void {
  if (!Array.isArray(value)) {
    errors.push({ field, message: 'must be an array' });
    return;
  }
  if (value.length === 0) errors.push({ field, message: 'must not be empty' });
  if (value.length > maxItems) errors.push({ field, message: `must have at most ${maxItems} items` });
  value.forEach((entry, i) => {
    const message = item(entry, `${field}.${i}`);
    if (message) errors.push({ field: `${field}.${i}`, message });
  });
}

function globError(entry: unknown): string | null {
  if (typeof entry !== 'string' || entry.length === 0) return 'must be a non-empty glob';
  if (entry.length > POLICY_LIMITS.globLength)
    return `must be at most ${POLICY_LIMITS.globLength} characters`;
  if (!GLOB_CHARS.test(entry)) return 'must be printable ASCII without spaces';
  return null;
}

function subjectError(entry: unknown): string | null {
  if (typeof entry === 'string' && parsePolicySubject(entry)) return null;
  return 'must be an agent id, agent:<id>/*, trust_level:root|delegated|ephemeral, or *';
}

/** Validates `conditions` (and everything inside it) into `errors`, with `path` as the field prefix. */
export function validatePolicyConditions(value: unknown, errors: FieldError[], path = 'conditions'): void {
  if (value === null || value === undefined) return;
  if (!isPlainObject(value)) {
    errors.push({ field: path, message: 'must be an object' });
    return;
  }
  unknownFields(value, CONDITION_FIELDS, path, errors);
  if (value.ip_cidrs !== undefined) {
    validateList(value.ip_cidrs, `${path}.ip_cidrs`, errors, POLICY_LIMITS.ipCidrs, (entry) =>
      typeof entry === 'string' && isValidCidr(entry) ? null : 'must be an IPv4 or IPv6 address or CIDR',
    );
  }
  if (value.max_delegation_depth !== undefined) {
    if (!isInteger(value.max_delegation_depth, 0, POLICY_LIMITS.maxDelegationDepth)) {
      errors.push({ field: `${path}.max_delegation_depth`, message: 'must be a non-negative integer' });
    }
  }
  const window = value.time_window;
  if (window === undefined) return;
  const windowPath = `${path}.time_window`;
  if (!isPlainObject(window)) {
    errors.push({ field: windowPath, message: 'must be an object' });
    return;
  }
  unknownFields(window, TIME_WINDOW_FIELDS, windowPath, errors);
  for (const key of ['start', 'end'] as const) {
    if (typeof window[key] !== 'string' || parseClockTime(window[key]) === null) {
      errors.push({ field: `${windowPath}.${key}`, message: 'must be a time HH:MM between 00:00 and 23:59' });
    }
  }
  if (typeof window.timezone !== 'string' || !isValidTimeZone(window.timezone)) {
    errors.push({ field: `${windowPath}.timezone`, message: 'must be an IANA time zone name' });
  }
  if (window.days !== undefined) {
    validateList(window.days, `${windowPath}.days`, errors, WEEKDAYS.length * 2, (entry) =>
      typeof entry === 'string' && (WEEKDAYS as readonly string[]).includes(entry)
        ? null
        : `must be one of ${WEEKDAYS.join(', ')}`,
    );
  }
}

/**
 * Validates a policy create (or, with `partial`, a PATCH) body: types, grammar and bounds of every field,
 * unknown fields refused. Returns field errors (empty = valid) in the shape `ValidationProblem` takes.
 * Whether the subjects lie in the caller's subtree needs the database; see `subjectAgentIds`.
 */
export function validatePolicyInput(input: unknown, options: { partial?: boolean } = {}): FieldError[] {
  const errors: FieldError[] = [];
  if (!isPlainObject(input)) return [{ field: '', message: 'must be a JSON object' }];
  unknownFields(input, TOP_LEVEL_FIELDS, '', errors);
  if (!options.partial) {
    for (const field of REQUIRED_ON_CREATE) {
      if (input[field] === undefined) errors.push({ field, message: 'is required' });
    }
  }
  if (input.name !== undefined) {
    const name = input.name;
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > POLICY_LIMITS.nameLength) {
      errors.push({
        field: 'name',
        message: `must be a non-blank string of at most ${POLICY_LIMITS.nameLength}`,
      });
    }
  }
  if (input.description !== undefined && input.description !== null) {
    if (typeof input.description !== 'string' || input.description.length > POLICY_LIMITS.descriptionLength) {
      errors.push({
        field: 'description',
        message: `must be a string of at most ${POLICY_LIMITS.descriptionLength} characters`,
      });
    }
  }
  if (input.effect !== undefined && !POLICY_EFFECTS.includes(input.effect as never)) {
    errors.push({ field: 'effect', message: 'must be allow or deny' });
  }
  if (input.subjects !== undefined) {
    validateList(input.subjects, 'subjects', errors, POLICY_LIMITS.listItems, subjectError);
  }
  for (const field of ['actions', 'resources'] as const) {
    if (input[field] !== undefined)
      validateList(input[field], field, errors, POLICY_LIMITS.listItems, globError);
  }
  validatePolicyConditions(input.conditions, errors);
  if (
    input.priority !== undefined &&
    !isInteger(input.priority, POLICY_LIMITS.priorityMin, POLICY_LIMITS.priorityMax)
  ) {
    errors.push({ field: 'priority', message: 'must be a 32-bit integer' });
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    errors.push({ field: 'enabled', message: 'must be a boolean' });
  }
  return errors;
}
