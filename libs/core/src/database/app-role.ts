/**
 * The API's database identity. Two arrangements work:
 * - the API logs in as the least-privilege role itself (`DATABASE_URL` names `DATABASE_APP_ROLE` as its
 *   user; production requires this), or
 * - the API logs in as the owner and switches to the role at connect time (`-c role=…`; a development
 *   convenience: one URL for migrations and API). A session that switched can `SET ROLE NONE` back to the
 *   owner, who may disable the audit trigger — so this arrangement does not make the trail append-only
 *   against a compromised API process.
 */

/** The role migrations create and grant to (`DATABASE_APP_ROLE` may name another one made the same way). */
export const DEFAULT_DATABASE_APP_ROLE = 'agentauth_app';

/** The user part of a PostgreSQL URL (percent-decoded), or undefined when the URL names none. */
export function databaseUser(url: string): string | undefined {
  const user = new URL(url).username;
  return user ? decodeURIComponent(user) : undefined;
}

/** True when `url` logs in as the app role itself, so no connect-time role switch is needed. */
export function logsInAsAppRole(url: string, appRole: string | undefined): boolean {
  return !!appRole && databaseUser(url) === appRole;
}

/** PostgreSQL identifier and literal quoting for the statements below, which cannot take bind parameters. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export type RunSql = (sql: string) => Promise<unknown>;

/**
 * When the API's `DATABASE_URL` logs in as the app role, lets that role log in with the URL's password.
 * Run by the migration step as the owner (which created the role NOLOGIN and needs CREATEROLE for this).
 * Returns the role it enabled, or undefined when the API logs in as some other user.
 */
export async function enableAppRoleLogin(
  run: RunSql,
  apiDatabaseUrl: string | undefined,
  appRole: string | undefined,
): Promise<string | undefined> {
  if (!apiDatabaseUrl || !appRole || !logsInAsAppRole(apiDatabaseUrl, appRole)) return undefined;
  const password = decodeURIComponent(new URL(apiDatabaseUrl).password);
  await run(
    `ALTER ROLE ${quoteIdent(appRole)} WITH LOGIN${password ? ` PASSWORD ${quoteLiteral(password)}` : ''}`,
  );
  return appRole;
}

export interface SessionPrivileges {
  sessionUser: string;
  superuser: boolean;
  /** The session's login user can become the owner of `audit_events` (and so disable its trigger). */
  canBecomeAuditOwner: boolean;
}

export type QuerySql = <T>(sql: string) => Promise<T[]>;

/** What the login user of this session (not the role it switched to) could do with `RESET ROLE`. */
export async function sessionPrivileges(query: QuerySql): Promise<SessionPrivileges> {
  const [row] = await query<{ session_user: string; superuser: boolean; can_become_owner: boolean }>(`
    SELECT session_user AS session_user,
           (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS superuser,
           pg_has_role(session_user, c.relowner, 'MEMBER') AS can_become_owner
    FROM pg_class c
    WHERE c.oid = 'public.audit_events'::regclass`);
  return {
    sessionUser: row.session_user,
    superuser: row.superuser,
    canBecomeAuditOwner: row.can_become_owner,
  };
}

export class PrivilegedDatabaseLoginError extends Error {
  constructor(privileges: SessionPrivileges) {
    super(
      `DATABASE_URL logs in as "${privileges.sessionUser}", which ${
        privileges.superuser ? 'is a superuser' : 'can become the owner of audit_events'
      }: in production the API and worker must log in as the least-privilege role (DATABASE_APP_ROLE) ` +
        'so the audit trail stays append-only; set DATABASE_URL to that role and MIGRATIONS_DATABASE_URL ' +
        'to the owner (docs/deployment.md)',
    );
    this.name = 'PrivilegedDatabaseLoginError';
  }
}

/** Fails closed when the session's login user could undo the audit trail's append-only guarantee. */
export async function assertLeastPrivilegeLogin(query: QuerySql): Promise<void> {
  const privileges = await sessionPrivileges(query);
  if (privileges.superuser || privileges.canBecomeAuditOwner) {
    throw new PrivilegedDatabaseLoginError(privileges);
  }
}
