import * as fs from 'node:fs';
import * as path from 'node:path';

export type VerifyWebhook = (
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
  nowSeconds?: number,
) => boolean;

/**
 * The receiver-side verification function exactly as docs/webhooks.md documents it (the code block between
 * the `verify-snippet` markers), so the tests fail if the documented recipe stops matching the signatures.
 */
export function documentedVerifier(): VerifyWebhook {
  const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'webhooks.md'), 'utf8');
  const section = /<!-- verify-snippet:start -->\s*```js\n([\s\S]*?)```\s*<!-- verify-snippet:end -->/.exec(
    doc,
  );
  if (!section) throw new Error('docs/webhooks.md has no verify-snippet block');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('require', `${section[1]}\nreturn verifyAgentAuthWebhook;`) as (
    req: NodeJS.Require,
  ) => VerifyWebhook;
  return factory(require);
}
