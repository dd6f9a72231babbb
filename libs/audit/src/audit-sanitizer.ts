import { isUuid } from '@agentauth/core';
import type { PendingAuditEvent } from './audit-chain';
import type { AuditEventInput, AuditOutcome } from './audit-event';

/**
 * Defensive clean-up of what goes into the audit trail (docs/audit.md "Never a secret"). The first line of
 * defence is callers not passing secrets; this is the second. Pure functions, unit-tested.
 */

/** Name fragments of keys whose (string or structured) value is dropped from `details`. */
const SENSITIVE_KEY =
  /(secret|token|api_?key|password|passwd|passphrase|hash|authorization|bearer|private_?key|cookie)/;
/** …unless the name ends like an identifier, a kind, a count or a time (`token_id`, `token_type_hint`). */
const SAFE_KEY_SUFFIX = /_(id|ids|type|types|hint|count|at)$/;
/** Values that look like a bearer token or an AgentAuth API key are redacted wherever they appear. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;
const API_KEY_LIKE = /\baa_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}/;
export const REDACTED = '[redacted]';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MAX_DEPTH = 8;
const MAX_STRING = 2048;
const MAX_TEXT_COLUMN = 512;
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];

/** `fooBar`, `foo-bar`, `FOO_BAR` → `foo_bar`. */
function normalizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s.]+/g, '_')
    .toLowerCase();
}

/**
 * The answers for keys seen before: the code's own `details` keys are a small fixed set, met on every
 * event. Bounded, because a key may come from a client's input (metadata): past the bound it is computed.
 */
const sensitiveKeyMemo = new Map<string, boolean>();
const SENSITIVE_KEY_MEMO_SIZE = 1000;

/** True when a `details` key names something secret (case-insensitive, camelCase or snake_case). */
export function isSensitiveKey(key: string): boolean {
  let sensitive = sensitiveKeyMemo.get(key);
  if (sensitive === undefined) {
    const k = normalizeKey(key);
    sensitive = SENSITIVE_KEY.test(k) && !SAFE_KEY_SUFFIX.test(k);
    if (sensitiveKeyMemo.size < SENSITIVE_KEY_MEMO_SIZE) sensitiveKeyMemo.set(key, sensitive);
  }
  return sensitive;
}

/**
 * Text PostgreSQL stores and gives back unchanged: no NUL (refused by `text` and `jsonb`), no lone
 * surrogate (it would come back as U+FFFD and break the event's hash), bounded length.
 */
export function cleanText(value: string, max = MAX_STRING): string {
  let text = value.includes('\u0000') ? value.split('\u0000').join('') : value;
  if (text.length > max) text = `${text.slice(0, max - 1)}…`;
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

function redactString(value: string, max = MAX_STRING): string {
  return JWT_LIKE.test(value) || API_KEY_LIKE.test(value) ? REDACTED : cleanText(value, max);
}

function isPrimitiveSafe(value: unknown): boolean {
  return value === null || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * Plain JSON of `details` with every key named like a secret dropped (its value is kept only when a number,
 * a boolean or null: never a secret), secret-looking strings redacted, text made storable, depth bounded.
 * `onDropped` hears the path of each dropped key (never its value).
 */
export function sanitizeDetails(
  details: unknown,
  onDropped: (path: string) => void = () => undefined,
): Record<string, unknown> {
  const seen = new WeakSet<object>();
  const walk = (value: unknown, path: string, depth: number): unknown => {
    if (value === null || value === undefined) return null;
    switch (typeof value) {
      case 'string':
        return redactString(value);
      case 'number':
        return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'object':
        break;
      default:
        return null; // functions, symbols: JSON has no such thing
    }
    const obj = value;
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
    if (depth >= MAX_DEPTH) return '[truncated]';
    if (seen.has(obj)) return '[circular]';
    seen.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((v, i) => walk(v, `${path}[${i}]`, depth + 1));
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk((toJSON as () => unknown).call(obj), path, depth);
      const out: Record<string, unknown> = {};
      for (const [rawKey, v] of Object.entries(obj)) {
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        const key = cleanText(rawKey, 200);
        const childPath = path ? `${path}.${key}` : key;
        if (isSensitiveKey(key) && !isPrimitiveSafe(v)) {
          onDropped(childPath);
          continue;
        }
        out[key] = walk(v, childPath, depth + 1);
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  const result = walk(details ?? {}, '', 0);
  return typeof result === 'object' && result !== null && !Array.isArray(result)
    ? (result as Record<string, unknown>)
    : { value: result };
}

/** Thrown synchronously by `record` for a malformed event (a programming error, not a runtime one). */
export class InvalidAuditEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAuditEventError';
  }
}

/**
 * The stored form of an event: validated type and outcome, sanitized details, uuid columns checked (a
 * value that is not a uuid, such as an unknown client_id of a failed authentication, goes to
 * `details.invalid_<field>` instead of failing the batch), text columns made storable.
 */
export function prepareAuditEvent(
  input: AuditEventInput,
  id: string,
  occurredAt: Date,
  onDropped?: (path: string) => void,
): PendingAuditEvent {
  if (
    typeof input.eventType !== 'string' ||
    input.eventType.length > 100 ||
    !EVENT_TYPE_PATTERN.test(input.eventType)
  ) {
    throw new InvalidAuditEventError(
      `audit event_type must look like <context>.<verb> (lower case, ≤ 100 chars): ${String(input.eventType).slice(0, 100)}`,
    );
  }
  if (!OUTCOMES.includes(input.outcome)) {
    throw new InvalidAuditEventError(`audit outcome must be one of ${OUTCOMES.join(', ')}`);
  }
  const details = sanitizeDetails(input.details ?? {}, onDropped);
  const uuid = (field: string, value: string | null | undefined): string | null => {
    if (value === null || value === undefined || value === '') return null;
    if (typeof value === 'string' && isUuid(value)) return value.toLowerCase();
    details[`invalid_${field}`] = redactString(String(value), 200);
    return null;
  };
  const text = (value: string | null | undefined): string | null =>
    value === null || value === undefined ? null : cleanText(String(value), MAX_TEXT_COLUMN);
  const event: PendingAuditEvent = {
    id,
    occurredAt: occurredAt.toISOString(),
    eventType: input.eventType,
    outcome: input.outcome,
    actorAgentId: uuid('actor_agent_id', input.actorAgentId),
    onBehalfOf: uuid('on_behalf_of', input.onBehalfOf),
    targetType: text(input.targetType),
    targetId: input.targetId == null ? null : redactString(String(input.targetId), MAX_TEXT_COLUMN),
    rootAgentId: uuid('root_agent_id', input.rootAgentId),
    ip: text(input.ip),
    requestId: text(input.requestId),
    details,
  };
  return event;
}
