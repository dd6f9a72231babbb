/**
 * The server-rendered pages of the authorization endpoint (CONTRACT §11): plain HTML forms that work without
 * JavaScript, styled inline (the CSP allows inline styles and nothing else). Every interpolated value goes
 * through `html`, which escapes it unless it is already `SafeHtml` — the only way to build markup here.
 */

/** Markup that is already escaped (built by `html`). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

type Interpolation = SafeHtml | string | number | null | undefined | false | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: literal parts verbatim, every interpolation escaped (arrays joined, SafeHtml kept). */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}
main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .5rem;overflow-wrap:anywhere}
p.lead{color:#4b5563;margin:0 0 1.5rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=password],input:not([type]){width:100%;padding:.6rem .7rem;border:1px solid #d1d5db;border-radius:8px;font:inherit}
input:focus{outline:2px solid #2563eb;outline-offset:1px}
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:8px;border:1px solid transparent;cursor:pointer}
button.primary{background:#2563eb;color:#fff}
button.secondary{background:#fff;color:#111827;border-color:#d1d5db}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
[role=alert]{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;padding:.75rem 1rem;border-radius:8px;margin:1rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:1rem 0;font-size:.95rem}
dt{color:#6b7280}
dd{margin:0;overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
fieldset{border:1px solid #e5e7eb;border-radius:8px;padding:.5rem 1rem;margin:1rem 0}
legend{font-weight:600;padding:0 .25rem}
.scope{display:flex;gap:.6rem;align-items:flex-start;padding:.5rem 0;border-bottom:1px solid #f3f4f6}
.scope:last-child{border-bottom:0}
.scope label{margin:0;font-weight:400}
.scope input{margin-top:.3rem}
.scope .name{font-weight:600}
.scope .desc{display:block;color:#6b7280;font-size:.9rem}
.scope.refused .name{color:#9ca3af;text-decoration:line-through}
.muted{color:#6b7280;font-size:.85rem}
`;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · AgentAuth</title>
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.value;
}

export interface ClientSummary {
  id: string;
  name: string;
}

export function signInPage(input: {
  action: string;
  csrf: string;
  client: ClientSummary;
  error?: string;
  agentId?: string;
}): string {
  return layout(
    'Sign in',
    html`<h1>Sign in to authorize ${input.client.name}</h1>
      <p class="lead">
        Sign in as an agent of this client's tree: its agent ID and an API key with the scope
        <code>delegations:write</code>.
      </p>
      ${input.error ? html`<div role="alert">${input.error}</div>` : ''}
      <form method="post" action="${input.action}">
        <input type="hidden" name="csrf_token" value="${input.csrf}" />
        <label for="agent_id">Agent ID</label>
        <input
          id="agent_id"
          name="agent_id"
          autocomplete="username"
          spellcheck="false"
          value="${input.agentId ?? ''}"
        />
        <label for="api_key">API key</label>
        <input id="api_key" name="api_key" type="password" autocomplete="current-password" />
        <div class="actions"><button type="submit" class="primary">Sign in</button></div>
      </form>
      <p class="muted">Client ID <code>${input.client.id}</code></p>`,
  );
}

export interface ConsentPageInput {
  action: string;
  csrf: string;
  client: ClientSummary;
  parent: { id: string; name: string } | null;
  redirectHost: string;
  resource: string;
  approver: { id: string; name: string };
  lifetime: string;
  scopes: { scope: string; grantable: boolean; description: string | null }[];
}

export function consentPage(input: ConsentPageInput): string {
  const scopes = input.scopes.map((s, i) => {
    const id = `scope_${i}`;
    return html`<div class="scope${s.grantable ? '' : ' refused'}">
      <input
        type="checkbox"
        id="${id}"
        name="scope"
        value="${s.scope}"
        ${s.grantable ? new SafeHtml(' checked') : new SafeHtml(' disabled')}
      />
      <label for="${id}"
        ><span class="name">${s.scope}</span
        ><span class="desc"
          >${s.description ?? (s.grantable ? 'No description' : '')}${s.grantable ? '' : ' — cannot be granted'}</span
        ></label
      >
    </div>`;
  });
  return layout(
    'Authorize',
    html`<h1>Authorize ${input.client.name}</h1>
      <p class="lead">
        This client asks to act on behalf of <strong>${input.approver.name}</strong>. Approving creates a
        delegation you can list and revoke at any time in <code>/delegations</code>.
      </p>
      <dl>
        <dt>Client</dt>
        <dd>${input.client.name} (<code>${input.client.id}</code>)</dd>
        <dt>Parent agent</dt>
        <dd>
          ${input.parent ? html`${input.parent.name} (<code>${input.parent.id}</code>)` : 'none (a root agent)'}
        </dd>
        <dt>Redirects to</dt>
        <dd><code>${input.redirectHost}</code></dd>
        <dt>Resource</dt>
        <dd><code>${input.resource}</code></dd>
        <dt>Signed in as</dt>
        <dd>${input.approver.name} (<code>${input.approver.id}</code>)</dd>
        <dt>Lifetime</dt>
        <dd>${input.lifetime}</dd>
      </dl>
      <form method="post" action="${input.action}">
        <input type="hidden" name="csrf_token" value="${input.csrf}" />
        <fieldset>
          <legend>Scopes</legend>
          ${scopes}
        </fieldset>
        <div class="actions">
          <button type="submit" name="decision" value="approve" class="primary">Approve</button>
          <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
        </div>
      </form>`,
  );
}

export function errorPage(input: { error: string; description: string }): string {
  return layout(
    'Authorization failed',
    html`<h1>Authorization failed</h1>
      <div role="alert"><strong>${input.error}</strong>: ${input.description}</div>
      <p class="lead">
        Nothing was authorized. Close this window and start again from the application that sent you here.
      </p>`,
  );
}

/** A lifetime in words ("7 days", "12 hours"). */
export function describeLifetime(seconds: number): string {
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}
