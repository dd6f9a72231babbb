import type { INestApplication } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { ADMIN_ONLY, AUTH_REQUIREMENT, type AuthRequirement, IS_PUBLIC } from '@agentauth/core';

export interface RouteInfo {
  method: string;
  /** Controller path + method path, without the global prefix (e.g. `agents/:id`). */
  path: string;
  auth: 'public' | 'admin' | 'bearer' | 'none';
  scopes: string[];
  controller: string;
  handler: string;
}

function joinPath(...parts: (string | string[] | undefined)[]): string {
  return parts
    .flatMap((p) => (Array.isArray(p) ? p[0] : p))
    .filter((p): p is string => typeof p === 'string' && p.length > 0 && p !== '/')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .join('/');
}

/** Every HTTP route the app serves, with the authentication metadata the global guard reads. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const moduleRef of app.get(ModulesContainer).values()) {
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!controller) continue;
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        const read = <T>(key: string): T | undefined =>
          (Reflect.getMetadata(key, handler) as T | undefined) ??
          (Reflect.getMetadata(key, controller) as T | undefined);
        const requirement = read<AuthRequirement>(AUTH_REQUIREMENT);
        const auth = read<boolean>(IS_PUBLIC)
          ? 'public'
          : read<boolean>(ADMIN_ONLY)
            ? 'admin'
            : requirement
              ? 'bearer'
              : 'none';
        routes.push({
          method: RequestMethod[method],
          path: joinPath(base, path),
          auth,
          scopes: requirement?.scopes ?? [],
          controller: controller.name,
          handler: name,
        });
      }
    }
  }
  return routes;
}
