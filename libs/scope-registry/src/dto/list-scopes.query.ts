import { PageQuery } from '@agentauth/core';

/** `GET /scopes?limit=&cursor=`. */
export class ListScopesQuery extends PageQuery {}
