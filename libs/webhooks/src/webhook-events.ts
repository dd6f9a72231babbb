import { isUuid } from '@agentauth/core';
/** One event type a webhook can subscribe to (the catalogue is documented in docs/webhooks.md). */
export interface WebhookEventType {
  type: string;
  description: string;
  /** Deployment-wide (no root tree): delivered to every tree's subscribed webhooks. */
  global?: boolean;
  /** Delivered whatever the audit outcome (otherwise only `success` events are delivered). */
  anyOutcome?: boolean;
  /**
   * The agents a tree event is about (CONTRACT §7: a webhook receives only events about its owner's
   * subtree). Not the actor: an ancestor acting on a leaf's object is an event about the leaf.
   */
  about?: (event: WebhookPayload) => (string | null | undefined)[];
}

const detail = (event: WebhookPayload, name: string): string | undefined => {
  const value = event.data.details[name];
  return typeof value === 'string' ? value : undefined;
};
/** The agent the event targets (agent events). */
const targetAgent = (event: WebhookPayload) => [
  event.data.target_type === 'agent' ? event.data.target_id : null,
];
/** The agent whose key it is (credential events name it as `details.agent_id`). */
const credentialAgent = (event: WebhookPayload) => [detail(event, 'agent_id')];

export const WEBHOOK_EVENT_CATALOGUE: readonly WebhookEventType[] = [
  {
    type: 'credential.revoked',
    description:
      'An API key was revoked, directly or by the deactivation or expiry of its agent (details.cause); it stops working at once.',
    about: credentialAgent,
  },
  {
    type: 'credential.rotated',
    description: 'An API key was rotated; the old key keeps working for the grace period.',
    about: credentialAgent,
  },
  {
    type: 'refresh_token.reuse_detected',
    description: 'A used or revoked refresh token was presented again; its whole family was revoked.',
    anyOutcome: true,
    // The family's client (who presented it) and subject.
    about: (event) => [event.data.actor_agent_id, event.data.on_behalf_of],
  },
  {
    type: 'agent.deactivated',
    description:
      'An agent and its whole subtree were deactivated (DELETE); details.deactivated_agent_ids names them.',
    about: targetAgent,
  },
  {
    type: 'agent.expired',
    description:
      'An agent reached its expires_at and was deactivated with its whole subtree by maintenance; details.deactivated_agent_ids names them.',
    about: targetAgent,
  },
  {
    type: 'delegation.revoked',
    description:
      'A delegation was revoked, directly, as a descendant of a revoked delegation, or by an agent deactivation or expiry (details.cause); tokens minted from it die.',
    about: (event) => [detail(event, 'delegator_agent_id'), detail(event, 'delegate_agent_id')],
  },
  {
    type: 'signing_key.rotated',
    description: 'A new token-signing key was published in JWKS; refresh cached keys.',
    global: true,
  },
];

/** Subscribes to every event type, present and future. */
export const ALL_EVENTS = '*';

export const WEBHOOK_EVENT_TYPES: readonly string[] = WEBHOOK_EVENT_CATALOGUE.map((e) => e.type);

export function webhookEventType(type: string): WebhookEventType | undefined {
  return WEBHOOK_EVENT_CATALOGUE.find((e) => e.type === type);
}

/** The body POSTed to a webhook (`docs/webhooks.md`). Built once per event; identical for every retry. */
export interface WebhookPayload {
  /** The audit event id: the same for every webhook and every retry (deduplicate on it). */
  id: string;
  type: string;
  occurred_at: string;
  /** The root tree the event belongs to; null for deployment-wide events (`signing_key.rotated`). */
  root_agent_id: string | null;
  data: {
    outcome: string;
    actor_agent_id: string | null;
    on_behalf_of: string | null;
    target_type: string | null;
    target_id: string | null;
    ip: string | null;
    request_id: string | null;
    details: Record<string, unknown>;
  };
}

/** The audit event fields webhooks read (structurally the audit trail's recorded event). */
export interface WebhookSourceEvent {
  id: string;
  /** ISO 8601 UTC (as the audit trail stores it). */
  occurredAt: string;
  eventType: string;
  outcome: string;
  actorAgentId?: string | null;
  onBehalfOf?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  rootAgentId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The payload for an audit event, or undefined when no webhook is told about it: not in the catalogue,
 * not a success (unless the type says any outcome), or a tree event without a root tree.
 */
export function webhookPayloadFor(event: WebhookSourceEvent): WebhookPayload | undefined {
  const type = webhookEventType(event.eventType);
  if (!type) return undefined;
  if (!type.anyOutcome && event.outcome !== 'success') return undefined;
  if (!type.global && !event.rootAgentId) return undefined;
  return {
    id: event.id,
    type: event.eventType,
    occurred_at: new Date(event.occurredAt).toISOString(),
    root_agent_id: type.global ? null : (event.rootAgentId ?? null),
    data: {
      outcome: event.outcome,
      actor_agent_id: event.actorAgentId ?? null,
      on_behalf_of: event.onBehalfOf ?? null,
      target_type: event.targetType ?? null,
      target_id: event.targetId ?? null,
      ip: event.ip ?? null,
      request_id: event.requestId ?? null,
      details: event.details ?? {},
    },
  };
}

/**
 * The agents an event is about, for the delivery filter: null for a deployment-wide event (every
 * subscribed webhook gets it); otherwise the ids its type names, or — when it names none — the tree's root
 * (an event about the whole tree: only webhooks the root owns receive it). Fails closed: a webhook owned
 * below the root never receives an event that does not name an agent of its subtree.
 */
export function webhookAboutAgentIds(event: WebhookPayload): string[] | null {
  const type = webhookEventType(event.type);
  if (type?.global || event.root_agent_id === null) return null;
  const named = (type?.about?.(event) ?? []).filter(
    (id): id is string => typeof id === 'string' && isUuid(id),
  );
  return named.length > 0 ? [...new Set(named.map((id) => id.toLowerCase()))] : [event.root_agent_id];
}
