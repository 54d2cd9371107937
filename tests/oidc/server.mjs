// A standards-compliant OAuth 2.0 / OpenID Connect server that is not calconnect's sandbox: panva's
// oidc-provider (an OpenID Certified implementation), plus a small Graph stand-in that accepts only the
// provider's access tokens. calconnect's CLI tests start it on loopback TLS and sign in against it, so a
// habit of Microsoft's that calconnect leans on, or a shortcut the sandbox shares with calconnect, shows as a
// refusal from a strict server.
//
//   node server.mjs --cert leaf.pem --key leaf-key.pem --port-file port.json [--access-token-ttl SECONDS]
//
// It listens on 127.0.0.1 only, on a port the OS picks, and writes {"port": N} to --port-file once ready.
// Every URL calconnect uses comes from the discovery document at
// https://127.0.0.1:N/organizations/v2.0/.well-known/openid-configuration: calconnect builds discovery
// URLs as {authority}{tenant}/v2.0/... (Microsoft's v2 layout), so the issuer lives under that path and
// `calconnect --authority https://127.0.0.1:N/ --tenant organizations` finds it by OpenID Connect
// Discovery 1.0 §4 ({issuer}/.well-known/openid-configuration).
//
// What the provider is configured to be (the shape of calconnect's Full app registration in Entra):
// - one public native client, token_endpoint_auth_method "none", redirect_uris ["http://localhost"]
//   exactly, so RFC 8252 §7.3's "any port" rule is what lets calconnect's loopback port in;
// - PKCE required (S256 is the only method oidc-provider offers); the device authorization grant;
// - refresh tokens for offline_access (and for the client's authorization codes: see issueRefreshToken),
//   rotated on every use (reuse of a spent one revokes the grant);
// - the Graph scopes User.Read and Calendars.ReadWrite belong to a resource server, the Graph stand-in at
//   https://127.0.0.1:N/graph/ (RFC 8707 resource indicators), the default resource when a request names
//   none, as Entra's bare Graph scopes do; its access tokens are RFC 9068 JWTs for that audience.
// - sign-in and consent are this file's own pages (/interaction/…), a form a test fills in.
//
// /graph/v1.0/me and /graph/v1.0/me/calendars (two pages) verify the bearer against the provider's keys
// (signature, issuer, audience, expiry, typ at+jwt, the scope the call needs) and answer like Graph.
// POST /_test/refuse-next-bearer makes the stand-in answer the next valid bearer with 401 (revoked).
// GET /_test/journal lists what happened — grants, refusals, the bearers the stand-in checked — by token
// id (jti) only: no token, code or password is ever written to it or to the log.

import { createServer } from 'node:https';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const { values: options } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    'port-file': { type: 'string' },
    'access-token-ttl': { type: 'string', default: '3600' },
  },
});
for (const required of ['cert', 'key', 'port-file']) {
  if (!options[required]) {
    console.error(`usage: node server.mjs --cert PEM --key PEM --port-file FILE [--access-token-ttl SECONDS] (missing --${required})`);
    process.exit(2);
  }
}
const accessTokenTtl = Number.parseInt(options['access-token-ttl'], 10);

/** The app registration calconnect signs in with: Entra's Full app, as oidc-provider metadata. */
export const FULL_CLIENT_ID = '5b0c7c6e-5c1e-4d5e-9a55-1e0b4f6a2c01';
/** The delegated Graph permissions of the Full app (offline_access is the provider's own scope). */
const GRAPH_SCOPES = ['User.Read', 'Calendars.ReadWrite'];
/** Where the issuer lives: calconnect's {authority}{tenant}/v2.0 with tenant `organizations`. */
const ISSUER_PATH = '/organizations/v2.0';
const GRAPH_PATH = '/graph/';

/** The directory: people who can sign in, with the Graph profile /me returns. */
const USERS = new Map([
  ['adele@contoso.example', {
    id: '8a1d2c3b-0000-4000-8000-00000000ade1',
    displayName: 'Adele Vance',
    password: 'oidc-test-password',
    calendars: ['Calendar', 'Birthdays', 'Project Falcon'],
  }],
]);
const userById = (id) => [...USERS.entries()].find(([, user]) => user.id === id);

/** Everything observable about a run, secret-free: the test reads it from /_test/journal. */
const journal = [];
/** Set by POST /_test/refuse-next-bearer: the next valid bearer is answered 401, as Graph answers a token
 * revoked since it was issued, so a test sees calconnect's forced refresh and retry. */
let refuseNextBearer = false;
function record(entry) {
  const stamped = { at: new Date().toISOString(), ...entry };
  journal.push(stamped);
  console.error(`[oidc-test] ${JSON.stringify(stamped)}`);
}

const server = createServer({
  cert: readFileSync(options.cert),
  key: readFileSync(options.key),
});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const origin = `https://127.0.0.1:${port}`;
const issuer = `${origin}${ISSUER_PATH}`;
const graphResource = `${origin}${GRAPH_PATH}`;

const signingKey = await jose.generateKeyPair('RS256', { extractable: true });
const privateJwk = { ...(await jose.exportJWK(signingKey.privateKey)), kid: 'oidc-test-1', alg: 'RS256', use: 'sig' };
const publicJwk = { ...(await jose.exportJWK(signingKey.publicKey)), kid: 'oidc-test-1', alg: 'RS256', use: 'sig' };
const graphKeys = jose.createLocalJWKSet({ keys: [publicJwk] });

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: FULL_CLIENT_ID,
    client_name: 'calconnect Full',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://localhost'],
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [privateJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access'],
  pkce: { required: () => true },
  findAccount: async (_ctx, sub) => {
    const found = userById(sub);
    if (!found) return undefined;
    const [email, user] = found;
    return { accountId: sub, claims: async () => ({ sub, email, name: user.displayName }) };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // OpenID Connect Core §11 has an OP ignore offline_access unless prompt=consent, and oidc-provider strips it
  // from every authorization request without that prompt. Entra does not: it grants offline_access when the
  // app asks, and calconnect sends no prompt=consent (it would ask for consent at every sign-in). So, as
  // oidc-provider's documentation suggests for public clients, the native public client's authorization
  // codes get a refresh token too; device codes (no prompt parameter) still need offline_access.
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && (code.scopes.has('offline_access')
      || (code.kind === 'AuthorizationCode' && client.applicationType === 'native' && client.clientAuthMethod === 'none')),
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    DeviceCode: 600,
    Grant: 14 * 24 * 3600,
    Interaction: 600,
    RefreshToken: 14 * 24 * 3600,
    Session: 3600,
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: async (ctx, form, _out, error) => {
        const message = error ? `<p id="error">${escapeHtml(error.message || error.name)}</p>` : '';
        ctx.body = page('Enter code', `${message}${form}<button type="submit" form="op.deviceInputForm">Next</button>`);
      },
      userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
        ctx.body = page('Confirm device', `<p>${escapeHtml(client.clientName)} shows <code>${escapeHtml(userCode)}</code></p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`);
      },
      successSource: async (ctx) => {
        ctx.body = page('Signed in', '<p id="done">You can close this page.</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => graphResource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== graphResource) throw new errors.InvalidTarget();
        return {
          scope: GRAPH_SCOPES.join(' '),
          audience: graphResource,
          accessTokenTTL: accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Sign-in refused', `<p id="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
  },
});

// What the provider did, for the journal: grants by type and the id of the access token they issued;
// every refusal with its OAuth error and description.
const jtiOf = (jwt) => {
  try { return jose.decodeJwt(jwt).jti; } catch { return undefined; }
};
provider.on('grant.success', (ctx) => {
  record({
    event: 'grant',
    grant_type: ctx.oidc.params.grant_type,
    access_token_jti: jtiOf(ctx.body?.access_token),
    refresh_token_issued: Boolean(ctx.body?.refresh_token),
    scope: ctx.body?.scope,
  });
});
for (const event of ['authorization.error', 'grant.error', 'device_authorization.error', 'discovery.error', 'server_error', 'code_verification.error']) {
  provider.on(event, (_ctx, error) => record({ event, error: error.error ?? error.name, error_description: error.error_description ?? error.message }));
}
provider.on('device_authorization.success', (ctx) => record({ event: 'device_authorization', scope: ctx.oidc.params.scope }));
provider.on('authorization.accepted', (ctx) => record({
  event: 'authorization',
  redirect_uri: ctx.oidc.params.redirect_uri,
  code_challenge_method: ctx.oidc.params.code_challenge_method,
  scope: ctx.oidc.params.scope,
}));

const providerCallback = provider.callback();

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** The sign-in and consent pages oidc-provider sends the person to. */
async function interaction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  const { prompt, params, session } = details;

  if (req.method === 'GET') {
    if (prompt.name === 'login') {
      return send(res, 200, 'text/html; charset=utf-8', page('Sign in', loginForm(uid)));
    }
    const scopes = [
      ...(prompt.details.missingOIDCScope ?? []),
      ...Object.values(prompt.details.missingResourceScopes ?? {}).flat(),
    ];
    return send(res, 200, 'text/html; charset=utf-8', page('Permissions requested', `<ul>${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul><form id="consent" method="post" action="/interaction/${uid}/confirm"><button type="submit">Accept</button></form><form id="decline" method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`));
  }

  if (action === 'login') {
    const form = await readForm(req);
    const user = USERS.get((form.get('login') ?? '').toLowerCase());
    if (!user || form.get('password') !== user.password) {
      return send(res, 200, 'text/html; charset=utf-8', page('Sign in', `<p id="error">Wrong user name or password.</p>${loginForm(uid)}`));
    }
    record({ event: 'login', sub: user.id });
    return provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    record({ event: 'consent', resource_scopes: prompt.details.missingResourceScopes, oidc_scopes: prompt.details.missingOIDCScope });
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, 'text/plain', 'not found');
}

const loginForm = (uid) => `<form id="login" method="post" action="/interaction/${uid}/login"><input type="email" name="login" autocomplete="username"><input type="password" name="password" autocomplete="current-password"><button type="submit">Sign in</button></form>`;

/** Graph's error shape (learn.microsoft.com/graph/errors), with the RFC 6750 challenge on a 401. */
function graphError(res, status, code, message) {
  const headers = status === 401 ? { 'www-authenticate': `Bearer realm="graph-stand-in", error="invalid_token", error_description="${message.replace(/"/g, "'")}"` } : {};
  send(res, status, 'application/json', JSON.stringify({ error: { code, message, innerError: { 'request-id': randomUUID() } } }), headers);
}

/** The Graph stand-in: checks the bearer, then answers /me and /me/calendars like Graph v1.0. */
async function graph(req, res, url) {
  const path = url.pathname.slice(GRAPH_PATH.length - 1);
  const route = path === '/v1.0/me' ? { needs: 'User.Read' }
    : path === '/v1.0/me/calendars' ? { needs: 'Calendars.ReadWrite' }
      : undefined;
  if (!route || req.method !== 'GET') return graphError(res, 404, 'Request_UnsupportedQuery', 'not served by the stand-in');

  const authorization = req.headers.authorization ?? '';
  const [scheme, token] = authorization.split(' ');
  let claims;
  try {
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new Error('no bearer token');
    ({ payload: claims } = await jose.jwtVerify(token, graphKeys, {
      issuer,
      audience: graphResource,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat', 'jti', 'client_id', 'sub'],
    }));
  } catch (error) {
    record({ event: 'graph', path, valid: false, reason: error.code ?? error.message });
    return graphError(res, 401, 'InvalidAuthenticationToken', `Access token is invalid: ${error.code ?? error.message}`);
  }
  if (refuseNextBearer) {
    refuseNextBearer = false;
    record({ event: 'graph', path, valid: false, jti: claims.jti, reason: 'refused by the test (revoked)' });
    return graphError(res, 401, 'InvalidAuthenticationToken', 'Access token has been revoked.');
  }
  const scopes = new Set(String(claims.scope ?? '').split(' '));
  const found = userById(claims.sub);
  const allowed = scopes.has(route.needs) && claims.client_id === FULL_CLIENT_ID && found;
  record({ event: 'graph', path, valid: Boolean(allowed), jti: claims.jti, sub: claims.sub, client_id: claims.client_id, scope: claims.scope, page: url.searchParams.get('$skiptoken') ?? undefined });
  if (!allowed) return graphError(res, 403, 'ErrorAccessDenied', `Access is denied: ${route.needs} is required.`);

  const [email, user] = found;
  if (path === '/v1.0/me') {
    return send(res, 200, 'application/json', JSON.stringify({
      '@odata.context': `${origin}/graph/v1.0/$metadata#users/$entity`,
      id: user.id,
      displayName: user.displayName,
      mail: email,
      userPrincipalName: email,
    }));
  }
  // Two pages, so calconnect follows @odata.nextLink with the same bearer.
  const calendars = user.calendars.map((name, index) => ({
    id: `${user.id}-calendar-${index}`,
    name,
    color: 'auto',
    hexColor: '',
    isDefaultCalendar: index === 0,
    canEdit: index !== 1,
    owner: { name: user.displayName, address: email },
  }));
  const second = url.searchParams.get('$skiptoken') === 'page2';
  const body = second
    ? { value: calendars.slice(1) }
    : { value: calendars.slice(0, 1), '@odata.nextLink': `${origin}/graph/v1.0/me/calendars?$skiptoken=page2` };
  return send(res, 200, 'application/json', JSON.stringify({ '@odata.context': `${origin}/graph/v1.0/$metadata#users('${user.id}')/calendars`, ...body }));
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, origin);
  try {
    if (url.pathname === ISSUER_PATH || url.pathname.startsWith(`${ISSUER_PATH}/`)) {
      // Mounted under the issuer's path, the way oidc-provider documents for a prefix: it reads the
      // mount point from originalUrl minus url.
      req.originalUrl = req.url;
      req.url = req.url.slice(ISSUER_PATH.length) || '/';
      return providerCallback(req, res);
    }
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res, url);
    if (url.pathname.startsWith(GRAPH_PATH)) return await graph(req, res, url);
    if (url.pathname === '/_test/journal') return send(res, 200, 'application/json', JSON.stringify(journal));
    if (url.pathname === '/_test/refuse-next-bearer' && req.method === 'POST') {
      refuseNextBearer = true;
      return send(res, 204, 'text/plain', '');
    }
    return send(res, 404, 'text/plain', 'not found');
  } catch (error) {
    record({ event: 'handler_error', path: url.pathname, error: error.error ?? error.name, error_description: error.error_description ?? error.message });
    if (!res.headersSent) send(res, 400, 'text/html; charset=utf-8', page('Sign-in refused', `<p id="error">${escapeHtml(error.error ?? error.name)}: ${escapeHtml(error.error_description ?? error.message)}</p>`));
  }
});

const portFile = options['port-file'];
writeFileSync(`${portFile}.tmp`, JSON.stringify({ port, issuer, graph: graphResource, client_id: FULL_CLIENT_ID }));
renameSync(`${portFile}.tmp`, portFile);
console.error(`[oidc-test] listening: issuer ${issuer}`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
