// Moved to core (shared by every context's `{id}` routes); re-exported for existing imports.
export { UUID_PATTERN, UuidParamPipe } from '@agentauth/core';
