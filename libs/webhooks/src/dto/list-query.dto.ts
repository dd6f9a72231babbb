import { PageQuery } from '@agentauth/core';

/** `?limit=&cursor=` of the webhook lists: the same paging as every list endpoint. */
export class ListQueryDto extends PageQuery {}
