import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import pino, { DestinationStream, Logger, LoggerOptions } from 'pino';
import { type AppConfig, LOG_LEVELS } from '../config/app-config';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Keeps a client's request id when it is a sane token, otherwise makes a new one. */
export function requestIdFor(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** Header and body fields that may hold secrets; pino replaces them wherever they appear. */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'client_secret',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'api_key',
  'raw_key',
  'key',
  '*.authorization',
  '*.client_secret',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.api_key',
  '*.raw_key',
  'headers["x-admin-key"]',
  'headers.authorization',
];

/** The base pino options every process (API, worker, scripts) shares. */
export function basePinoOptions(config: AppConfig, serviceName: string): LoggerOptions {
  return {
    level: config.logLevel,
    messageKey: 'msg',
    base: { service_name: serviceName, environment: config.environment, hostname: os.hostname() },
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

let destinationOverride: DestinationStream | undefined;

/** Test hook: every logger created afterwards writes here (tests parse the JSON lines). */
export function setLogDestination(destination: DestinationStream | undefined): void {
  destinationOverride = destination;
}

export function createRootLogger(config: AppConfig, serviceName: string): Logger {
  return pino(basePinoOptions(config, serviceName), destinationOverride ?? pino.destination({ sync: false }));
}

/**
 * A logger for command-line tools (migrations, setup, verifiers) that have no full AppConfig: the same
 * JSON shape and base fields as the services, written synchronously so nothing is lost on exit. A LOG_LEVEL
 * that is not a level name falls back to `info` here (pino would throw before the tool could say anything);
 * the API and the worker refuse it at config validation.
 */
export function createScriptLogger(serviceName: string, env: Record<string, string | undefined>): Logger {
  const environment = env.ENVIRONMENT ?? 'development';
  const level = env.LOG_LEVEL?.trim() ?? '';
  return pino(
    {
      level: LOG_LEVELS.includes(level) ? level : 'info',
      messageKey: 'msg',
      base: { service_name: serviceName, environment, hostname: os.hostname() },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ sync: true }),
  );
}
