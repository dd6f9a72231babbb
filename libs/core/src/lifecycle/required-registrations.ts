import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/**
 * Boot-time wiring check. Cascade hooks and job processors plug into registries at `onModuleInit` (so that
 * the lib owning a registry never imports the libs that plug into it); a process that forgot a module
 * would otherwise start and silently skip a cascade or a job. Each app lists what it needs, and refuses to
 * start — naming every missing entry — when anything is absent.
 */
export interface RegistryCheck {
  /** The registry, as named in the message (e.g. `AgentCascadeRegistry`, `JobHandlers key-rotation`). */
  registry: string;
  /** The names that must be registered there. */
  required: readonly string[];
  /** What is registered; `undefined` when the registry itself is not provided in this process. */
  registered: readonly string[] | undefined;
}

/** `Registry "name"` for every required name that is not registered, in the order given. */
export function missingRegistrations(checks: readonly RegistryCheck[]): string[] {
  const missing: string[] = [];
  for (const check of checks) {
    const registered = new Set(check.registered ?? []);
    for (const name of check.required) {
      if (!registered.has(name)) {
        missing.push(
          check.registered === undefined
            ? `${check.registry} "${name}" (the registry itself is not provided)`
            : `${check.registry} "${name}"`,
        );
      }
    }
  }
  return missing;
}

export class MissingRegistrationsError extends Error {
  constructor(
    readonly processName: string,
    readonly missing: readonly string[],
  ) {
    super(
      `${processName} refuses to start: not registered: ${missing.join(', ')} ` +
        '(import the module that registers each one in this app module)',
    );
    this.name = 'MissingRegistrationsError';
  }
}

/** Throws `MissingRegistrationsError` naming every missing entry; returns when everything is registered. */
export function assertRegistrations(processName: string, checks: readonly RegistryCheck[]): void {
  const missing = missingRegistrations(checks);
  if (missing.length > 0) throw new MissingRegistrationsError(processName, missing);
}

/** The process's instance of `type`, wherever it is provided; undefined when no module provides it. */
export function providedInstance<T>(moduleRef: ModuleRef, type: Type<T>): T | undefined {
  try {
    return moduleRef.get(type, { strict: false });
  } catch {
    return undefined;
  }
}
