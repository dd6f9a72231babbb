// Moved to core (the scopes registry lists with it too and cannot import agents); re-exported for existing imports.
export {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  type Keyset,
  MAX_PAGE_SIZE,
  type Page,
  PageQuery,
  toPage,
} from '@agentauth/core';
