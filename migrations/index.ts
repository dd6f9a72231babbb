// Every migration, in timestamp order. `make migrate-create` appends here.
import { AppRole1764400000000 } from './1764400000000-app-role';
import { Agents1764400100000 } from './1764400100000-agents';
import { Credentials1764400110000 } from './1764400110000-credentials';
import { AuditEvents1764400200000 } from './1764400200000-audit-events';
import { SigningKeys1764400300000 } from './1764400300000-signing-keys';
import { Revocations1764400310000 } from './1764400310000-revocations';
import { Scopes1764400400000 } from './1764400400000-scopes';
import { Policies1764400410000 } from './1764400410000-policies';
import { Webhooks1764400600000 } from './1764400600000-webhooks';
import { RefreshTokens1764400700000 } from './1764400700000-refresh-tokens';
import { Delegations1764400800000 } from './1764400800000-delegations';
import { AuditAppend1764400900000 } from './1764400900000-audit-append';
import { AuditAppendSingleInsert1764401000000 } from './1764401000000-audit-append-single-insert';
import { CredentialExpiry1764401100000 } from './1764401100000-credential-expiry';
import { RefreshPurge1764401110000 } from './1764401110000-refresh-purge';
import { AgentRateLimit1764401300000 } from './1764401300000-agent-rate-limit';
import { RefreshFamilyChain1764500000000 } from './1764500000000-refresh-family-chain';
import { WebhookOwner1764500100000 } from './1764500100000-webhook-owner';
import { ResourceServers1764510000000 } from './1764510000000-resource-servers';
import { PublicKeyCredentials1764520000000 } from './1764520000000-public-key-credentials';
import { Dpop1764520100000 } from './1764520100000-dpop';
import { ResourceServerDpopRequired1764520200000 } from './1764520200000-resource-server-dpop-required';
import { AuthorizationCode1764530000000 } from './1764530000000-authorization-code';
import { AuditAppendJson1764540000000 } from './1764540000000-audit-append-json';
import { AuditAppendPrimaryKeyLookup1764540100000 } from './1764540100000-audit-append-primary-key-lookup';

export const MIGRATIONS = [
  AppRole1764400000000,
  Agents1764400100000,
  Credentials1764400110000,
  AuditEvents1764400200000,
  SigningKeys1764400300000,
  Revocations1764400310000,
  Scopes1764400400000,
  Policies1764400410000,
  Webhooks1764400600000,
  RefreshTokens1764400700000,
  Delegations1764400800000,
  AuditAppend1764400900000,
  AuditAppendSingleInsert1764401000000,
  CredentialExpiry1764401100000,
  RefreshPurge1764401110000,
  AgentRateLimit1764401300000,
  RefreshFamilyChain1764500000000,
  WebhookOwner1764500100000,
  ResourceServers1764510000000,
  PublicKeyCredentials1764520000000,
  Dpop1764520100000,
  ResourceServerDpopRequired1764520200000,
  AuthorizationCode1764530000000,
  AuditAppendJson1764540000000,
  AuditAppendPrimaryKeyLookup1764540100000,
];
