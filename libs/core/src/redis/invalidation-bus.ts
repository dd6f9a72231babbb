import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ROOT_LOGGER } from '../logging/logging.module';
import { REDIS } from './redis.tokens';

/** What a subscriber does with a message, and (optionally) when messages may have been lost. */
export interface InvalidationListener {
  /** A message on the channel (its payload, e.g. a root agent id). */
  onMessage(payload: string): void;
  /**
   * The subscriber connection is (again) listening: messages sent before (while connecting, or while
   * disconnected) are lost, so a cache should treat everything it holds as unverified.
   */
  onResync?(): void;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Cross-process cache invalidation over Redis pub/sub: `publish(channel, payload)` after a change has
 * committed, `subscribe(channel, listener)` in every process that caches what changed. One duplicated ioredis
 * connection per process carries every channel. Channel names get `REDIS_KEY_PREFIX` (pub/sub channels are
 * not prefixed by ioredis), so deployments and test runs sharing a Redis never hear each other.
 *
 * Pub/sub is best effort (a message sent while a subscriber is disconnected is lost): every cache built on
 * it must also have a fallback (a version check, a TTL) that corrects a missed message. `onResync` tells a
 * listener when its connection came back, so it can re-verify at once.
 */
@Injectable()
export class InvalidationBus implements OnApplicationShutdown {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<InvalidationListener>>();
  private closed = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** The Redis channel behind a logical channel name. */
  channelName(channel: string): string {
    return `${this.config.redisKeyPrefix}${channel}`;
  }

  /**
   * Announces a change to every process (this one included, if it subscribed). Never throws: false when the
   * message could not be sent (the subscribers' fallback corrects it), after logging a warning.
   */
  async publish(channel: string, payload: string): Promise<boolean> {
    try {
      await this.redis.publish(this.channelName(channel), payload);
      return true;
    } catch (error) {
      this.logger.warn(
        { component: 'invalidation-bus', channel, error: errorMessage(error) },
        'invalidation message not sent',
      );
      return false;
    }
  }

  /** Listens on `channel` until the returned function is called. */
  subscribe(channel: string, listener: InvalidationListener | ((payload: string) => void)): () => void {
    const entry: InvalidationListener = typeof listener === 'function' ? { onMessage: listener } : listener;
    const name = this.channelName(channel);
    let set = this.listeners.get(name);
    const isNewChannel = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(entry);
    const subscriber = this.connection();
    if (isNewChannel && subscriber && subscriber.status === 'ready')
      void this.subscribeChannels(subscriber, [name]);
    return () => {
      const current = this.listeners.get(name);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) {
        this.listeners.delete(name);
        this.subscriber?.unsubscribe(name).catch(() => undefined);
      }
    };
  }

  onApplicationShutdown(): void {
    this.closed = true;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.listeners.clear();
    // A subscriber has nothing to flush: close at once (quit would wait for a reconnect when Redis is down).
    subscriber?.disconnect();
  }

  private connection(): Redis | undefined {
    if (this.subscriber || this.closed) return this.subscriber;
    const subscriber = this.redis.duplicate({ enableAutoPipelining: false });
    this.subscriber = subscriber;
    let lastError = '';
    subscriber.on('error', (error: Error) => {
      if (error.message !== lastError) {
        this.logger.warn({ component: 'invalidation-bus', error: error.message }, 'subscriber error');
      }
      lastError = error.message;
    });
    subscriber.on('ready', () => {
      lastError = '';
      // (Re)subscribe on every connection. Whatever a listener cached before this connection was listening
      // (before the first one, or while disconnected) may have missed a message: resync once subscribed.
      void this.subscribeChannels(subscriber, [...this.listeners.keys()]).then(() => this.resyncAll());
    });
    subscriber.on('message', (channel: string, payload: string) => {
      for (const listener of this.listeners.get(channel) ?? []) {
        try {
          listener.onMessage(payload);
        } catch (error) {
          this.logger.warn(
            { component: 'invalidation-bus', channel, error: errorMessage(error) },
            'invalidation listener failed',
          );
        }
      }
    });
    return subscriber;
  }

  private async subscribeChannels(subscriber: Redis, channels: string[]): Promise<void> {
    if (channels.length === 0) return;
    try {
      await subscriber.subscribe(...channels);
    } catch (error) {
      this.logger.warn(
        { component: 'invalidation-bus', error: errorMessage(error) },
        'could not subscribe to invalidation channels',
      );
    }
  }

  private resyncAll(): void {
    for (const set of this.listeners.values()) {
      for (const listener of set) {
        try {
          listener.onResync?.();
        } catch (error) {
          this.logger.warn({ component: 'invalidation-bus', error: errorMessage(error) }, 'resync failed');
        }
      }
    }
  }
}
