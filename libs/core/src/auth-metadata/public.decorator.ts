import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'agentauth:public';

/**
 * Opts a route out of the global deny-by-default authentication guard. Every other route must state its
 * authentication with `@Auth(...)` (libs/auth) or `@AdminOnly()`.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
