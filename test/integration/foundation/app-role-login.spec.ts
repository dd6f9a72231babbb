import { DataSource } from 'typeorm';
import {
  buildDataSourceOptions,
  enableAppRoleLogin,
  PrivilegedDatabaseLoginError,
  sessionPrivileges,
} from '@agentauth/core';
import { createTestApp } from '../../support/app';
import { ownerClient } from '../../support/audit';
import { appRoleLoginUrl, productionOverrides } from '../../support/test-env';

const APP_ROLE = 'agentauth_app';
const PRODUCTION = productionOverrides();

/**
 * The audit trail is append-only at the database role level only if the API cannot get back to a role that
 * may disable the trigger. A session that logged in as the owner and switched roles can `SET ROLE NONE`; a
 * session that logged in as the app role cannot. Production therefore requires the latter.
 */
describe('the API database login (least privilege)', () => {
  const workerUrl = process.env.DATABASE_URL as string;
  const sources: DataSource[] = [];

  async function connect(url: string, appRole?: string): Promise<DataSource> {
    const source = await new DataSource(buildDataSourceOptions({ url, appRole, poolSize: 1 })).initialize();
    sources.push(source);
    return source;
  }

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
  });

  it('a session that switched roles from the owner can switch back and disable the audit trigger', async () => {
    const switched = await connect(workerUrl, APP_ROLE);
    const [{ current_user: acting }] =
      await switched.query<{ current_user: string }[]>('SELECT current_user');
    expect(acting).toBe(APP_ROLE);
    const privileges = await sessionPrivileges((sql) => switched.query(sql));
    expect(privileges.canBecomeAuditOwner || privileges.superuser).toBe(true);
    await switched.transaction(async (m) => {
      await m.query('SET ROLE NONE'); // back to the login user (RESET would restore the -c default)
      // succeeds: exactly the escape production refuses to start with
      await m.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await m.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    });
  });

  it('a session that logged in as the app role cannot: SET ROLE NONE leaves it the app role', async () => {
    const login = await connect(appRoleLoginUrl(workerUrl), APP_ROLE);
    const privileges = await sessionPrivileges((sql) => login.query(sql));
    expect(privileges).toEqual({ sessionUser: APP_ROLE, superuser: false, canBecomeAuditOwner: false });
    const runner = login.createQueryRunner();
    try {
      await runner.query('SET ROLE NONE');
      await expect(runner.query('UPDATE audit_events SET details = details')).rejects.toMatchObject({
        driverError: { code: '42501' },
      });
      await expect(runner.query('ALTER TABLE audit_events DISABLE TRIGGER USER')).rejects.toMatchObject({
        driverError: { code: '42501' },
      });
      await expect(runner.query('SET ROLE postgres')).rejects.toMatchObject({
        driverError: { code: '42501' },
      });
    } finally {
      await runner.release();
    }
  });

  it('in production the API refuses to start logged in as a superuser or the owner, and starts as the app role', async () => {
    await expect(createTestApp({ ...PRODUCTION, DATABASE_URL: workerUrl })).rejects.toBeInstanceOf(
      PrivilegedDatabaseLoginError,
    );
    const t = await createTestApp({ ...PRODUCTION, DATABASE_URL: appRoleLoginUrl(workerUrl) });
    await t.close();
  });

  it('outside production the owner-with-switch arrangement still starts (one URL for development)', async () => {
    const t = await createTestApp({ ENVIRONMENT: 'development', DATABASE_URL: workerUrl });
    await t.close();
  });

  it('the migration step enables the app role login, with the password of the API URL', async () => {
    const owner = await ownerClient(workerUrl);
    const run = (sql: string) => owner.query(sql);
    try {
      // the API logs in as the owner: nothing to enable
      expect(await enableAppRoleLogin(run, workerUrl, APP_ROLE)).toBeUndefined();
      await owner.query(`ALTER ROLE ${APP_ROLE} NOLOGIN`);
      const withPassword = new URL(appRoleLoginUrl(workerUrl));
      withPassword.password = encodeURIComponent("s3cret'; DROP ROLE x; --");
      expect(await enableAppRoleLogin(run, withPassword.toString(), APP_ROLE)).toBe(APP_ROLE);
      const { rows } = await owner.query<{ rolcanlogin: boolean; has_password: boolean }>(
        'SELECT rolcanlogin, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = $1',
        [APP_ROLE],
      );
      expect(rows).toEqual([{ rolcanlogin: true, has_password: true }]);
    } finally {
      // trust authentication here: the password is irrelevant, the login must stay enabled for other suites
      await owner.query(`ALTER ROLE ${APP_ROLE} WITH LOGIN PASSWORD NULL`);
      await owner.end();
    }
  });
});
