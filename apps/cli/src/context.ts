import {
  AgentAuthClient,
  createManagementClient,
  type ManagementClient,
  managementClientFor,
} from '@agentauth/sdk';
import { type ResolvedProfile, resolveProfile } from './config.js';
import { UsageError } from './errors.js';
import { createOutput, type Output } from './output.js';

/** The global options every command sees. */
export interface GlobalOptions {
  profile?: string;
  url?: string;
  json?: boolean;
  showSecrets?: boolean;
}

/** What a command needs: the output, the resolved profile and clients built from it on demand. */
export class Context {
  readonly out: Output;
  private resolved?: ResolvedProfile;
  private agentClient?: AgentAuthClient;

  constructor(private readonly options: GlobalOptions) {
    this.out = createOutput(Boolean(options.json), Boolean(options.showSecrets));
  }

  profile(): ResolvedProfile {
    this.resolved ??= resolveProfile({ profile: this.options.profile, url: this.options.url });
    return this.resolved;
  }

  /** The agent client of the profile's credentials (client_credentials with its API key). */
  agent(): AgentAuthClient {
    if (!this.agentClient) {
      const p = this.profile();
      if (!p.client_id || !p.client_secret) {
        throw new UsageError(
          `profile "${p.name}" has no agent credentials: run \`agentauth login --client-id … --client-secret …\` or set AGENTAUTH_CLIENT_ID and AGENTAUTH_CLIENT_SECRET`,
        );
      }
      this.agentClient = new AgentAuthClient({
        issuer: p.url,
        clientId: p.client_id,
        clientSecret: p.client_secret,
      });
    }
    return this.agentClient;
  }

  /** The management API as the profile's agent. */
  management(): ManagementClient {
    return managementClientFor(this.agent());
  }

  /** The admin routes (`/stats`, `/audit/events`) with the profile's admin key. */
  admin(): ManagementClient {
    const p = this.profile();
    if (!p.admin_key) {
      throw new UsageError(
        `profile "${p.name}" has no admin key: run \`agentauth login --admin-key …\` or set AGENTAUTH_ADMIN_KEY`,
      );
    }
    return createManagementClient({ baseUrl: p.url, adminKey: p.admin_key });
  }
}
