// The public surface of @agentauth/webhooks: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { decrypt, deriveKey, encrypt } from './crypto';
export { WebhookDeliveriesRetention } from './webhook-deliveries-retention';
export {
  WEBHOOK_JOBS,
  type WebhookDeliverJob,
  WebhookDeliveryService,
  type WebhookEventJob,
} from './webhook-delivery.service';
export {
  WEBHOOK_EVENT_TYPES,
  webhookAboutAgentIds,
  type WebhookPayload,
  webhookPayloadFor,
} from './webhook-events';
export { WEBHOOK_SECRET_KEY_PURPOSE } from './webhook-secrets';
export { newWebhookSecret, signatureHeader } from './webhook-signature';
export {
  forbiddenAddressReason,
  ipv6Groups,
  parseWebhookUrl,
  type ResolvedAddress,
  vetWebhookTarget,
  WEBHOOK_RESOLVER,
  WebhookTargetRefused,
} from './webhook-target';
export { WebhooksModule } from './webhooks.module';
