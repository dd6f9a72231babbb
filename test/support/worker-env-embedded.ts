// The `integration-embedded` project's worker environment: the embedded backends, then the usual settings.
process.env.AGENTAUTH_TEST_EMBEDDED = '1';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- must run after the flag is set
require('./worker-env');
