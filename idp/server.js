// Test OpenID Connect providers for Latchkey development and tests.
//
// THIS IS A TEST IDENTITY PROVIDER. It keeps everything in memory, ships fixed demo
// passwords, grants every scope without asking, and accepts any loopback callback URL.
// Never expose it beyond 127.0.0.1 and never use it for real people.
//
// One process, one port, two independent providers mounted by path prefix:
//   http://127.0.0.1:$IDP_PORT/myaccessid  "MyAccessID (test)"
//   http://127.0.0.1:$IDP_PORT/haka        "HAKA (test)"
// Each is its own oidc-provider instance with its own issuer, signing key, accounts,
// clients and cookie names. See README.md for accounts and environment variables.

import { generateKeyPairSync, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------

const PROVIDERS = [
  { id: 'myaccessid', displayName: 'MyAccessID (test)' },
  { id: 'haka', displayName: 'HAKA (test)' },
];

function envList(name) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

function fail(message) {
  console.error(`idp: ${message}`);
  process.exit(1);
}

const PORT = Number.parseInt(process.env.IDP_PORT || '27190', 10);
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) fail(`IDP_PORT must be a port number (got ${process.env.IDP_PORT})`);
const HOST = '127.0.0.1';
const ORIGIN = `http://${HOST}:${PORT}`;
const CLIENT_ID = 'latchkey';
const CLI_CLIENT_ID = 'latchkey-cli';
// A resource server whose access tokens are JWTs (RFC 9068), for relying parties that check
// them locally (signature from the JWKS): ask with resource=urn:latchkey:api and scope api.
const JWT_RESOURCE = 'urn:latchkey:api';
const OTHER_RESOURCE = 'urn:other:service';
const CLIENT_SECRET = process.env.IDP_CLIENT_SECRET || 'latchkey-test-secret';
// Signs the session/interaction cookies (koa keygrip). A fixed dev default is fine: test IdP.
const COOKIE_KEYS = envList('IDP_COOKIE_KEYS') || ['latchkey-test-idp-cookie-key-not-a-secret'];
const ACCOUNTS_FILE = resolve(process.env.IDP_ACCOUNTS_FILE || `${HERE}/accounts.json`);

function redirectUrisFor(id) {
  return envList(`IDP_${id.toUpperCase()}_REDIRECT_URIS`)
    || envList('IDP_REDIRECT_URIS')
    || [`http://127.0.0.1:8000/accounts/oidc/${id}/login/callback/`];
}

function postLogoutRedirectUrisFor(id) {
  return envList(`IDP_${id.toUpperCase()}_POST_LOGOUT_REDIRECT_URIS`)
    || envList('IDP_POST_LOGOUT_REDIRECT_URIS')
    || ['http://127.0.0.1:8000/'];
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

function loadAccounts(file) {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`cannot read accounts from ${file}: ${err.message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail(`${file}: expected an object keyed by provider id`);
  const known = new Set(PROVIDERS.map((p) => p.id));
  for (const key of Object.keys(data)) {
    if (!key.startsWith('_') && !known.has(key)) fail(`${file}: unknown provider id ${JSON.stringify(key)} (known: ${[...known].join(', ')})`);
  }
  const result = {};
  for (const { id } of PROVIDERS) {
    const list = data[id] ?? [];
    if (!Array.isArray(list)) fail(`${file}: ${id} must be a list of accounts`);
    const byUsername = new Map();
    const bySub = new Map();
    list.forEach((a, i) => {
      const where = `${file}: ${id}[${i}]`;
      for (const field of ['username', 'password', 'sub', 'name', 'email']) {
        if (typeof a?.[field] !== 'string' || !a[field]) fail(`${where}.${field}: required, a non-empty string`);
      }
      if (!Array.isArray(a.entitlements) || !a.entitlements.every((e) => typeof e === 'string')) {
        fail(`${where}.entitlements: required, a list of strings (may be empty)`);
      }
      if (byUsername.has(a.username)) fail(`${where}.username: ${a.username} is listed twice`);
      if (bySub.has(a.sub)) fail(`${where}.sub: ${a.sub} is listed twice`);
      const [first, ...rest] = a.name.split(/\s+/);
      const account = {
        username: a.username,
        password: a.password,
        sub: a.sub,
        name: a.name,
        given_name: a.given_name ?? first,
        family_name: a.family_name ?? (rest.join(' ') || first),
        email: a.email,
        email_verified: a.email_verified ?? true,
        entitlements: [...a.entitlements],
        disabled: false, // set at run time through /_admin (see handleAdmin)
      };
      byUsername.set(account.username, account);
      bySub.set(account.sub, account);
    });
    result[id] = { byUsername, bySub };
  }
  return result;
}

const ACCOUNTS = loadAccounts(ACCOUNTS_FILE);

// Back to the file's accounts, in place: each provider holds on to its own maps.
function resetAccounts() {
  const fresh = loadAccounts(ACCOUNTS_FILE);
  for (const [id, { byUsername, bySub }] of Object.entries(fresh)) {
    for (const [target, source] of [[ACCOUNTS[id].byUsername, byUsername], [ACCOUNTS[id].bySub, bySub]]) {
      target.clear();
      for (const [key, value] of source) target.set(key, value);
    }
  }
}

function digest(value) {
  return createHash('sha256').update(String(value), 'utf8').digest();
}

// Constant-time check; an unknown username costs the same as a wrong password.
function checkPassword(accounts, username, password) {
  const account = accounts.byUsername.get(username);
  const expected = digest(account ? account.password : randomBytes(16).toString('hex'));
  const ok = timingSafeEqual(expected, digest(password));
  return ok && account && !account.disabled ? account : undefined;
}

// ---------------------------------------------------------------------------
// HTML (self-contained: inline CSS, no external fonts or scripts)
// ---------------------------------------------------------------------------

function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;line-height:1.5;color:#1b1f24;background:#eef1f4}
body{margin:0;padding:1rem}
main{max-width:26rem;margin:2rem auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .25rem}
h2{font-size:1.1rem;font-weight:600;margin:0 0 1rem;color:#424a53}
p{margin:.5rem 0 1rem}
.badge{display:inline-block;font-size:.75rem;font-weight:600;letter-spacing:.03em;text-transform:uppercase;color:#7a4d00;background:#fff4d6;border:1px solid #e8c36a;border-radius:4px;padding:0 .4rem;margin-bottom:.75rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{display:block;width:100%;font:inherit;font-size:1rem;padding:.6rem .7rem;border:1px solid #8c959f;border-radius:6px;background:#fff;color:inherit}
input:focus,button:focus{outline:3px solid #0969da;outline-offset:2px}
input[aria-invalid=true]{border-color:#cf222e}
button{display:block;width:100%;font:inherit;font-size:1rem;font-weight:600;margin-top:1.25rem;padding:.7rem 1rem;border:0;border-radius:6px;background:#0969da;color:#fff;cursor:pointer}
button:hover{background:#0550ae}
button.secondary{background:transparent;color:#0550ae;border:1px solid #8c959f;margin-top:.75rem;font-weight:400}
.error{color:#82071e;background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.6rem .75rem}
.note{color:#424a53;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6rem .75rem}
details{margin-top:1.5rem;font-size:.9rem;color:#424a53}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{text-align:left;padding:.2rem .4rem;border-bottom:1px solid #d0d7de;overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
.code{font-size:1.6rem;letter-spacing:.1em;text-align:center;margin:1rem 0}
`;

function page({ title, body, extraHead = '' }) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)}</title>
<style>${CSS}</style>
${extraHead}
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function providerHeader(displayName) {
  return `<span class="badge">Test identity provider</span>\n<h1>${esc(displayName)}</h1>`;
}

function loginPage({ displayName, action, abortAction, username = '', error, note, accounts }) {
  const invalid = error ? ' aria-invalid="true" aria-describedby="login-error"' : '';
  const demo = [...accounts.byUsername.values()]
    .map((a) => `<tr><td><code>${esc(a.username)}</code></td><td><code>${esc(a.password)}</code></td><td>${esc(a.name)}</td></tr>`)
    .join('');
  return page({
    title: `Sign in – ${displayName}`,
    body: `${providerHeader(displayName)}
<h2>Sign in to continue</h2>
${note ? `<p class="note">${esc(note)}</p>` : ''}
${error ? `<p class="error" id="login-error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${esc(action)}" autocomplete="off" novalidate>
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${esc(username)}" autocomplete="username" autocapitalize="none" spellcheck="false" required${username ? '' : ' autofocus'}${invalid}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${username ? ' autofocus' : ''}${invalid}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${esc(abortAction)}">
<button type="submit" class="secondary">Cancel</button>
</form>
<details>
<summary>Demo accounts</summary>
<table><thead><tr><th scope="col">User</th><th scope="col">Pass</th><th scope="col">Name</th></tr></thead><tbody>${demo}</tbody></table>
</details>`,
  });
}

function messagePage({ displayName, title, message, status }) {
  return page({
    title: `${title} – ${displayName}`,
    body: `${providerHeader(displayName)}
<h2>${esc(title)}</h2>
<p>${esc(message)}</p>${status ? `\n<p><small>HTTP ${esc(status)}</small></p>` : ''}`,
  });
}

// ---------------------------------------------------------------------------
// Redirect URI policy for the test IdP
// ---------------------------------------------------------------------------

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function loopbackUrl(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  if (url.username || url.password || url.hash || value.includes('#')) return undefined;
  return url;
}

// The Django test suite's live server runs on a random port, so besides the registered
// redirect_uris we accept http://127.0.0.1:<any port>/accounts/oidc/<provider>/login/callback/
// (and localhost / [::1]). Loopback hosts only: an RP on another host must be registered.
function isLoopbackCallback(value, providerId) {
  const url = loopbackUrl(value);
  return Boolean(url && !url.search && url.pathname === `/accounts/oidc/${providerId}/login/callback/`);
}

// After logout any page of a loopback http server may be the destination.
function isLoopbackPage(value) {
  return Boolean(loopbackUrl(value));
}

// ---------------------------------------------------------------------------
// One provider
// ---------------------------------------------------------------------------

function signingKey(id) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `${id}-${randomBytes(6).toString('hex')}`, use: 'sig', alg: 'RS256' };
}

function buildProvider({ id, displayName }) {
  const issuer = `${ORIGIN}/${id}`;
  const mount = `/${id}`;
  const accounts = ACCOUNTS[id];

  const configuration = {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        client_name: 'Latchkey',
        application_type: 'web',
        redirect_uris: redirectUrisFor(id),
        post_logout_redirect_uris: postLogoutRedirectUrisFor(id),
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        // client_secret_post is accepted too: oidc-provider treats the two as interchangeable.
        token_endpoint_auth_method: 'client_secret_basic',
        // auth_time in every ID token, so the RP can check a re-authentication happened.
        require_auth_time: true,
      },
      {
        // A public client for a command-line tool (device authorization grant).
        client_id: CLI_CLIENT_ID,
        client_name: 'Latchkey CLI',
        application_type: 'native',
        redirect_uris: [],
        response_types: [],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        require_auth_time: true,
      },
      {
        // Another service at the same IdP: its users' tokens are real, but not meant for
        // Latchkey, which must refuse them (tests/api/test_api_upstream.py).
        client_id: 'other-service',
        client_name: 'Other service',
        application_type: 'native',
        redirect_uris: [],
        response_types: [],
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
        token_endpoint_auth_method: 'none',
      },
    ],
    jwks: { keys: [signingKey(id)] },
    cookies: {
      keys: COOKIE_KEYS,
      // Both providers share host 127.0.0.1 (cookies ignore ports, so the Django RP on
      // 127.0.0.1:8000 shares it too): distinct names keep their sessions apart.
      names: {
        session: `${id}_session`,
        interaction: `${id}_interaction`,
        resume: `${id}_interaction_resume`,
      },
      // No `secure` here: the issuer is plain http. oidc-provider adds Secure by itself
      // only when the request is https.
      long: { httpOnly: true, sameSite: 'lax', path: mount },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      eduperson_entitlement: ['eduperson_entitlement'],
      entitlements: ['eduperson_entitlement'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'eduperson_entitlement', 'entitlements'],
    responseTypes: ['code', 'none'],
    // Put the scope-requested claims in the ID token as well as in userinfo.
    conformIdTokenClaims: false,
    // JWT access tokens carry the entitlements, as many IdPs' do: they cannot be used at
    // userinfo (their audience is the resource server), so this is what the RP re-syncs from.
    async extraTokenClaims(ctx, token) {
      if (!token.resourceServer) return undefined;
      const account = accounts.bySub.get(token.accountId);
      return account && !account.disabled ? { eduperson_entitlement: account.entitlements } : undefined;
    },
    async findAccount(ctx, sub) {
      // A disabled account is gone, as far as clients can tell: refresh tokens, userinfo and
      // new logins all fail for it (oidc-provider answers invalid_grant / invalid_token).
      const account = accounts.bySub.get(sub);
      if (!account || account.disabled) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: account.name,
            given_name: account.given_name,
            family_name: account.family_name,
            preferred_username: account.username,
            email: account.email,
            email_verified: account.email_verified,
            eduperson_entitlement: account.entitlements,
          };
        },
      };
    },
    interactions: {
      // Default is the bare "/interaction/<uid>", which would escape the mount prefix.
      url: (ctx, interaction) => `${issuer}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        async userCodeInputSource(ctx, form, out, err) {
          let msg = '<p>Enter the code shown by your device.</p>';
          if (err && (err.userCode || err.name === 'NoCodeError')) msg = '<p class="error" role="alert">The code you entered is incorrect. Try again.</p>';
          else if (err && err.name === 'AbortedError') msg = '<p class="error" role="alert">The sign-in request was interrupted.</p>';
          else if (err) msg = '<p class="error" role="alert">There was an error processing your request.</p>';
          const labelled = form.replace('name="user_code"', 'id="user_code" name="user_code"');
          ctx.body = page({
            title: `Device sign-in – ${displayName}`,
            body: `${providerHeader(displayName)}
<h2>Device sign-in</h2>
${msg}
<label for="user_code">Code</label>
${labelled}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
          });
        },
        async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
          ctx.body = page({
            title: `Confirm device – ${displayName}`,
            body: `${providerHeader(displayName)}
<h2>Confirm device</h2>
<p><strong>${esc(client.clientName || client.clientId)}</strong> asks to sign in. Check that your device shows this code:</p>
<p class="code"><code>${esc(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" class="secondary" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
          });
        },
        async successSource(ctx) {
          ctx.body = messagePage({ displayName, title: 'Device signed in', message: 'Your device is signed in. You can close this page.' });
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // No confirmation click: the confirm form (with logout=yes) submits itself.
        // Without JavaScript the user presses "Sign out".
        async logoutSource(ctx, form) {
          const withLogout = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.body = page({
            title: `Sign out – ${displayName}`,
            body: `${providerHeader(displayName)}
<h2>Signing you out…</h2>
${withLogout}
<button type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById('op.logoutForm').submit();</script>`,
          });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = messagePage({ displayName, title: 'Signed out', message: `You have signed out of ${displayName}.` });
        },
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined, // no resource asked: an opaque token for userinfo
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, resourceIndicator) {
          // OTHER_RESOURCE: another service at the same IdP, whose tokens Latchkey must refuse.
          if (resourceIndicator !== JWT_RESOURCE && resourceIndicator !== OTHER_RESOURCE) throw new errors.InvalidTarget();
          return { scope: 'api', audience: resourceIndicator, accessTokenTTL: 60 * 60, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
      // RFC 7662, for relying parties that check access tokens (Latchkey's API). Only
      // confidential clients may ask; the answer names the client the token was issued to.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client) => client.clientAuthMethod !== 'none',
      },
    },
    pkce: {
      // S256 is supported (and checked when sent); it is required only from public clients.
      required: (ctx, client) => client.clientAuthMethod === 'none',
    },
    ttl: {
      AccessToken: 60 * 60,
      AuthorizationCode: 60,
      ClientCredentials: 10 * 60,
      DeviceCode: 10 * 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      RefreshToken: 24 * 60 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
    },
    // Every refresh hands out a new refresh token and spends the old one, as many IdPs do:
    // Latchkey's background re-check must keep the new one (lifecycle/recheck.py).
    rotateRefreshToken: true,
    clientBasedCORS: () => false,
    async renderError(ctx, out) {
      ctx.type = 'html';
      const text = out.error_description ? `${out.error}: ${out.error_description}` : out.error;
      ctx.body = messagePage({ displayName, title: 'Sign-in error', message: text, status: ctx.status });
    },
  };

  const provider = new Provider(issuer, configuration);

  // Test IdP: widen redirect URI checks to loopback callbacks on any port (see above).
  const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
  provider.Client.prototype.redirectUriAllowed = function allowLoopback(value) {
    return redirectUriAllowed.call(this, value)
      || (this.clientId === CLIENT_ID && isLoopbackCallback(value, id));
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function allowLoopbackLogout(value) {
    return postLogoutRedirectUriAllowed.call(this, value)
      || (this.clientId === CLIENT_ID && isLoopbackPage(value));
  };

  // Errors go onto the request's log line (no secrets: these are protocol error codes).
  const note = (ctx, err) => {
    if (!ctx?.req) return;
    const detail = [err.error_description, err.error_detail].filter(Boolean).join('; ');
    ctx.req.idpNote = `${err.error || err.name}${detail ? `: ${detail}` : ''}`;
  };
  for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
    'revocation.error', 'device_authorization.error', 'code_verification.error', 'discovery.error', 'jwks.error']) {
    provider.on(event, note);
  }
  provider.on('server_error', (ctx, err) => {
    note(ctx, err);
    console.error(`idp ${id}: server error: ${err.stack || err}`);
  });

  return { id, displayName, issuer, mount, accounts, provider, handler: provider.callback() };
}

// ---------------------------------------------------------------------------
// Interactions: login form, auto-consent, cancel
// ---------------------------------------------------------------------------

async function readForm(req, limit = 16 * 1024) {
  return new URLSearchParams((await readBody(req, limit)).toString('utf8'));
}

async function readBody(req, limit) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
  res.end(html);
}

function reasonNote(details, accounts) {
  const reasons = details.prompt.reasons || [];
  if (reasons.includes('login_prompt') || reasons.includes('max_age')) {
    const current = details.session?.accountId && accounts.bySub.get(details.session.accountId);
    return current
      ? `Please sign in again to confirm it's you (signed in as ${current.username}).`
      : 'Please sign in again to confirm it\'s you.';
  }
  return undefined;
}

function defaultUsername(details, accounts) {
  const current = details.session?.accountId && accounts.bySub.get(details.session.accountId);
  if (current) return current.username;
  const hint = details.params.login_hint;
  return typeof hint === 'string' && accounts.byUsername.has(hint) ? hint : '';
}

async function grantEverything(idp, details) {
  const { provider } = idp;
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return details.grantId ? {} : { grantId };
}

async function handleInteraction(idp, req, res, uid, action) {
  const { provider, displayName, accounts, issuer } = idp;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      req.idpNote = err.error_description || err.message;
      sendHtml(res, 400, messagePage({
        displayName,
        title: 'Sign-in session not found',
        message: 'This sign-in request has expired or was already completed. Go back to the application and start again.',
      }));
      return;
    }
    throw err;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, messagePage({ displayName, title: 'Sign-in session mismatch', message: 'Go back to the application and start again.' }));
    return;
  }

  const formAction = `${issuer}/interaction/${uid}/login`;
  const abortAction = `${issuer}/interaction/${uid}/abort`;
  const prompt = details.prompt.name;

  if (action === 'abort' && req.method === 'POST') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (action === 'login' && req.method === 'POST') {
    if (prompt !== 'login') {
      sendHtml(res, 400, messagePage({ displayName, title: 'Unexpected sign-in step', message: 'Go back to the application and start again.' }));
      return;
    }
    const form = await readForm(req);
    const username = (form.get('username') || '').trim();
    const account = checkPassword(accounts, username, form.get('password') || '');
    if (!account) {
      req.idpNote = 'invalid username or password';
      sendHtml(res, 401, loginPage({
        displayName, action: formAction, abortAction, username, accounts,
        error: 'Invalid username or password.',
        note: reasonNote(details, accounts),
      }));
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: account.sub, amr: ['pwd'], remember: true },
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (action === '' && req.method === 'GET') {
    if (prompt === 'login') {
      sendHtml(res, 200, loginPage({
        displayName, action: formAction, abortAction, accounts,
        username: defaultUsername(details, accounts),
        note: reasonNote(details, accounts),
      }));
      return;
    }
    if (prompt === 'consent') {
      // Trusted test IdP: grant whatever the client asked for, no consent page.
      const consent = await grantEverything(idp, details);
      await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
      return;
    }
    sendHtml(res, 400, messagePage({ displayName, title: 'Unsupported sign-in step', message: `Prompt ${prompt} is not supported.` }));
    return;
  }

  res.setHeader('Allow', action === '' ? 'GET' : 'POST');
  sendHtml(res, 405, messagePage({ displayName, title: 'Method not allowed', message: `${req.method} is not allowed here.` }));
}

// ---------------------------------------------------------------------------
// Run-time control of the accounts, so tests (and anyone trying Latchkey) can remove someone
// while everything runs: POST /_admin/<provider>/accounts/<username> with a JSON body
// {"entitlements": [...], "disabled": true|false} (either field), POST /_admin/reset to go
// back to accounts.json. Loopback callers only, JSON only and no Origin header, so a web page
// open in a browser on this machine cannot send it (a cross-site JSON POST needs a preflight,
// which this server never answers).
// ---------------------------------------------------------------------------

const ADMIN_ACCOUNT = /^\/_admin\/([a-z]+)\/accounts\/([A-Za-z0-9_.-]{1,64})$/;
const LOOPBACK_PEERS = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function sendJson(res, status, value) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`${JSON.stringify(value)}\n`);
}

async function handleAdmin(req, res, pathname) {
  if (!LOOPBACK_PEERS.has(req.socket.remoteAddress) || req.headers.origin !== undefined) {
    sendJson(res, 403, { error: 'loopback callers only, without an Origin header' });
    return;
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    sendJson(res, 405, { error: 'use POST' });
    return;
  }
  if (!(req.headers['content-type'] || '').startsWith('application/json')) {
    sendJson(res, 415, { error: 'send application/json' });
    return;
  }
  let body;
  try {
    body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8') || '{}');
  } catch (err) {
    sendJson(res, err.status || 400, { error: err.status ? err.message : 'the body is not JSON' });
    return;
  }
  if (pathname === '/_admin/reset') {
    resetAccounts();
    req.idpNote = 'accounts reset';
    sendJson(res, 200, { reset: true });
    return;
  }
  const match = ADMIN_ACCOUNT.exec(pathname);
  const account = match && Object.hasOwn(ACCOUNTS, match[1]) ? ACCOUNTS[match[1]].byUsername.get(match[2]) : undefined;
  if (!account) {
    sendJson(res, 404, { error: 'no such provider or account' });
    return;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    sendJson(res, 400, { error: 'expected an object' });
    return;
  }
  const { entitlements, disabled } = body;
  if (entitlements !== undefined && !(Array.isArray(entitlements) && entitlements.every((e) => typeof e === 'string'))) {
    sendJson(res, 400, { error: 'entitlements: expected a list of strings' });
    return;
  }
  if (disabled !== undefined && typeof disabled !== 'boolean') {
    sendJson(res, 400, { error: 'disabled: expected true or false' });
    return;
  }
  if (entitlements !== undefined) account.entitlements = [...entitlements];
  if (disabled !== undefined) account.disabled = disabled;
  req.idpNote = `${match[1]}/${account.username}: ${account.disabled ? 'disabled' : 'enabled'}, ${account.entitlements.length} entitlements`;
  sendJson(res, 200, { username: account.username, disabled: account.disabled, entitlements: account.entitlements });
}

// ---------------------------------------------------------------------------
// HTTP server: logging, canonical host, routing by path prefix
// ---------------------------------------------------------------------------

const IDPS = PROVIDERS.map(buildProvider);
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?\/?$/;

function indexPage() {
  const items = IDPS.map((idp) => `<li><strong>${esc(idp.displayName)}</strong><br>
issuer <code>${esc(idp.issuer)}</code><br>
<a href="${esc(idp.issuer)}/.well-known/openid-configuration">discovery document</a></li>`).join('\n');
  return page({
    title: 'Latchkey test identity providers',
    body: `<span class="badge">Test identity provider</span>
<h1>Latchkey test identity providers</h1>
<ul>
${items}
</ul>`,
  });
}

async function route(req, res) {
  const original = req.url || '/';
  const pathname = original.split('?')[0];

  // Issuer URLs name 127.0.0.1:<port>; oidc-provider builds endpoint URLs from the Host
  // header, so requests by another name are sent to the canonical origin first.
  if (req.headers.host !== `${HOST}:${PORT}`) {
    res.statusCode = req.method === 'GET' || req.method === 'HEAD' ? 302 : 308;
    res.setHeader('Location', `${ORIGIN}${original}`);
    res.end();
    return;
  }

  if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    sendHtml(res, 200, indexPage());
    return;
  }
  if (pathname.startsWith('/_admin/')) {
    await handleAdmin(req, res, pathname);
    return;
  }
  if (pathname === '/healthz') {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('ok\n');
    return;
  }

  const idp = IDPS.find((p) => pathname === p.mount || pathname.startsWith(`${p.mount}/`));
  if (!idp) {
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('not found\n');
    return;
  }

  const rest = original.slice(idp.mount.length) || '/';
  const restPath = pathname.slice(idp.mount.length);
  const interaction = INTERACTION.exec(restPath);
  if (interaction) {
    await handleInteraction(idp, req, res, interaction[1], interaction[2] || '');
    return;
  }

  // Mounting under a path prefix, Express-style: oidc-provider derives the mount path of
  // the URLs it builds from req.originalUrl minus req.url (see OIDCContext.urlFor).
  req.originalUrl = original;
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  await idp.handler(req, res);
}

const server = http.createServer((req, res) => {
  const started = process.hrtime.bigint();
  const path = (req.url || '/').split('?')[0];
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const extra = req.idpNote ? ` (${req.idpNote})` : '';
    console.log(`${new Date().toISOString()} ${req.method} ${path} ${res.statusCode} ${ms.toFixed(1)}ms${extra}`);
  });
  route(req, res).catch((err) => {
    console.error(`idp: error on ${req.method} ${path}: ${err.stack || err}`);
    if (!res.headersSent) {
      sendHtml(res, err.status || 500, messagePage({
        displayName: 'Test identity provider',
        title: err.status === 413 ? 'Request too large' : 'Internal error',
        message: err.status === 413 ? err.message : 'Something went wrong in the test identity provider.',
      }));
    } else {
      res.destroy();
    }
  });
});
server.keepAliveTimeout = 5000;

server.on('error', (err) => fail(`cannot listen on ${HOST}:${PORT}: ${err.message}`));
server.listen(PORT, HOST, () => {
  console.log(`idp: listening on ${ORIGIN} (accounts from ${ACCOUNTS_FILE})`);
  for (const idp of IDPS) {
    console.log(`idp: ${idp.displayName}: ${idp.issuer}/.well-known/openid-configuration (${idp.accounts.byUsername.size} accounts)`);
  }
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`idp: ${signal} received, shutting down`);
  server.close(() => {
    console.log('idp: stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 3000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
