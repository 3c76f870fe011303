// A real OpenID provider for the company sign-in tests: node-oidc-provider 8 (certified; 9 wants
// Node 22 and the machines have Node 20), on http://127.0.0.1 and a free port. Started by
// tests/oidc_support.py; prints one JSON line, {"issuer": ...}, once it listens.
//
// Environment:
//   CLIENT_ID, CLIENT_SECRET  the app under test; "<CLIENT_ID>-other" is a second application of
//                             the same company, whose ID tokens must not open the first
//   REDIRECT_URIS             the client's redirect URIs, separated by spaces
//   ACCOUNTS_FILE             JSON list of {login, password, sub, claims}; read at every use,
//                             so a test can change a person's email at the provider
//   OIDC_PORT                 a fixed port (`make oidc-dev`); a free one when unset
//   STOP_WITH_STDIN           "1": stop when standard input closes (the tests: no provider is
//                             left behind, even by a test run that was killed)
//
// The sign-in pages are small plain HTML forms ("Username", "Password", "Sign in", "Cancel");
// consent is given at once, as a company's own provider does for its own applications.

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS, ACCOUNTS_FILE, OIDC_PORT } = process.env;

function accounts() {
  return JSON.parse(readFileSync(ACCOUNTS_FILE, 'utf8'));
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function loginPage(uid, error = '') {
  const alert = error ? `<p role="alert">${escape(error)}</p>` : '';
  return page('Company sign-in', `${alert}
<form method="post" action="/interaction/${escape(uid)}/login">
  <p><label for="login">Username</label> <input id="login" name="login" autocomplete="username"></p>
  <p><label for="password">Password</label>
     <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort">
  <p><button type="submit">Cancel</button></p>
</form>`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

const server = http.createServer();
await new Promise((resolve) => { server.listen(Number(OIDC_PORT || 0), '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const client = (clientId) => ({
  client_id: clientId,
  client_secret: CLIENT_SECRET,
  redirect_uris: REDIRECT_URIS.split(' ').filter(Boolean),
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client(CLIENT_ID), client(`${CLIENT_ID}-other`)],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['only-for-tests-not-a-secret'] },
  pkce: { methods: ['S256'], required: () => true },  // a code challenge on every request
  scopes: ['openid', 'email', 'profile', 'employee'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    employee: ['employee_number'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts().find((a) => a.sub === sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in error', `<p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
  },
});
const callback = provider.callback();

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Wrong interaction', ''));
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person cancelled the sign-in.',
    }, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'login') {
    if (action !== 'login') return send(res, 200, loginPage(uid));
    const form = await readBody(req);
    const account = accounts().find(
      (a) => a.login === form.get('login') && a.password === form.get('password'),
    );
    if (!account) return send(res, 200, loginPage(uid, 'That username and password do not match.'));
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, {
      mergeWithLastSubmission: false,
    });
  }
  // Consent: granted at once for what was asked.
  const { prompt: { details: missing }, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
    mergeWithLastSubmission: true,
  });
}

server.on('request', (req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/.exec(req.url.split('?')[0]);
  if (!match) return callback(req, res);
  interaction(req, res, match[1], match[2]).catch((error) => {
    send(res, 400, page('Sign-in error', `<p>${escape(error.message)}</p>`));
  });
  return undefined;
});

if (process.env.STOP_WITH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
