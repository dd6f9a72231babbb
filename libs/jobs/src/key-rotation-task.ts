/**
 * What the `key-rotation` queue calls (provided by the signing-keys module as `KEY_ROTATION_TASK`).
 * `rotate` creates and publishes the next signing key (publish-before-sign); `advance` activates keys
 * whose publication delay has passed and retires keys nothing verifiable was signed with. Both idempotent.
 */
export interface KeyRotationTask {
  rotate(): Promise<unknown>;
  advance(): Promise<unknown>;
}

export const KEY_ROTATION_TASK = Symbol('KEY_ROTATION_TASK');
