import { Client } from 'pg';

/** A raw connection to this worker's database as the owner (the superuser the test suite uses). */
export async function ownerClient(url = process.env.DATABASE_URL): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

/**
 * A raw connection that acts as the API's database role (`SET ROLE agentauth_app`). The role is reset before
 * the connection closes: PGlite (the embedded project) is one session shared by every connection, so a role
 * set here would outlive the connection.
 */
export async function appRoleClient(url = process.env.DATABASE_URL): Promise<Client> {
  const client = await ownerClient(url);
  await client.query('SET ROLE agentauth_app');
  const end = client.end.bind(client);
  client.end = async () => {
    await client.query('RESET ROLE').catch(() => undefined);
    return end();
  };
  return client;
}

export interface AuditRow {
  id: string;
  seq: string;
  occurred_at: Date;
  event_type: string;
  outcome: string;
  actor_agent_id: string | null;
  on_behalf_of: string | null;
  target_type: string | null;
  target_id: string | null;
  root_agent_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** Every stored event of one request, in chain order. */
export async function eventsOfRequest(client: Client, requestId: string): Promise<AuditRow[]> {
  const { rows } = await client.query<AuditRow>(
    'SELECT * FROM audit_events WHERE request_id = $1 ORDER BY seq',
    [requestId],
  );
  return rows;
}

/** A request id unique to this test run. */
export function uniqueRequestId(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** INSERT statements the database ran on audit_events, and the rows they wrote (running totals). */
export interface InsertStatementCount {
  statements: number;
  rows: number;
}

/**
 * Test-only: installs an `AFTER INSERT ON audit_events FOR EACH STATEMENT` trigger that logs every INSERT
 * statement (with its row count, from the transition table) into a side table, and returns a reader of the
 * running totals. Counts what the database ran, whoever ran it — not what the app believes it sent.
 * `owner` must be the owner/superuser (a trigger needs it); the trigger function is SECURITY DEFINER so the
 * app role's INSERTs can log without a grant on the side table. For scratch databases only: it stays.
 */
export async function installInsertStatementCounter(
  owner: Client,
): Promise<() => Promise<InsertStatementCount>> {
  await owner.query(`CREATE TABLE test_audit_insert_statements (rows bigint NOT NULL)`);
  await owner.query(`
    CREATE FUNCTION test_log_audit_insert_statement() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    BEGIN
      INSERT INTO test_audit_insert_statements (rows) SELECT count(*) FROM inserted_rows;
      RETURN NULL;
    END
    $$`);
  await owner.query(`
    CREATE TRIGGER test_audit_insert_statements AFTER INSERT ON audit_events
      REFERENCING NEW TABLE AS inserted_rows
      FOR EACH STATEMENT EXECUTE FUNCTION test_log_audit_insert_statement()`);
  return async () => {
    const { rows } = await owner.query<InsertStatementCount>(
      `SELECT count(*)::int AS statements, coalesce(sum(rows), 0)::int AS rows FROM test_audit_insert_statements`,
    );
    return rows[0];
  };
}
