import { isUuid } from '@agentauth/core';
import { TRUST_LEVELS, type TrustLevel } from './policy.types';

/**
 * Policy subjects (CONTRACT §6):
 * - `<agent id>`            that agent only;
 * - `agent:<agent id>/*`    that agent and its whole subtree;
 * - `trust_level:<level>`   every agent of that trust level (root, delegated, ephemeral);
 * - `*`                     every agent the policy may govern (its owner's subtree).
 * Agent ids are UUIDs, compared in lower case.
 */
export type PolicySubject =
  | { kind: 'agent'; agentId: string }
  | { kind: 'subtree'; agentId: string }
  | { kind: 'trust_level'; trustLevel: TrustLevel }
  | { kind: 'everyone' };

const SUBTREE_PREFIX = 'agent:';
const SUBTREE_SUFFIX = '/*';
const TRUST_LEVEL_PREFIX = 'trust_level:';

/** Parses one subject; null when it is none of the four forms. */
export function parsePolicySubject(subject: string): PolicySubject | null {
  if (typeof subject !== 'string') return null;
  if (subject === '*') return { kind: 'everyone' };
  if (isUuid(subject)) return { kind: 'agent', agentId: subject.toLowerCase() };
  if (subject.startsWith(SUBTREE_PREFIX) && subject.endsWith(SUBTREE_SUFFIX)) {
    const agentId = subject.slice(SUBTREE_PREFIX.length, -SUBTREE_SUFFIX.length);
    if (isUuid(agentId)) return { kind: 'subtree', agentId: agentId.toLowerCase() };
  }
  if (subject.startsWith(TRUST_LEVEL_PREFIX)) {
    const level = subject.slice(TRUST_LEVEL_PREFIX.length) as TrustLevel;
    if (TRUST_LEVELS.includes(level)) return { kind: 'trust_level', trustLevel: level };
  }
  return null;
}

/** The canonical spelling of a subject (lower-case ids), or null when invalid. Store this form. */
export function normalizePolicySubject(subject: string): string | null {
  const parsed = parsePolicySubject(subject);
  if (!parsed) return null;
  switch (parsed.kind) {
    case 'everyone':
      return '*';
    case 'agent':
      return parsed.agentId;
    case 'subtree':
      return `agent:${parsed.agentId}/*`;
    case 'trust_level':
      return `${TRUST_LEVEL_PREFIX}${parsed.trustLevel}`;
  }
}

/**
 * The agent ids a subject list names (exact and subtree subjects), de-duplicated, lower case. The API checks
 * each is within the caller's subtree before storing the policy (an id outside it answers as unknown).
 */
export function subjectAgentIds(subjects: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const subject of subjects) {
    const parsed = parsePolicySubject(subject);
    if (parsed && (parsed.kind === 'agent' || parsed.kind === 'subtree')) ids.add(parsed.agentId);
  }
  return [...ids];
}
