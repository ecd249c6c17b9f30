// The Node baseline of bench/load.sh: what a Node app does per request with
// @workos-inc/node — read the `wos-session` cookie, then
// `loadSealedSession({ sessionData, cookiePassword }).authenticate()`
// (iron unseal + RS256 verification against the cached JWKS).
// GET /api/claims takes `Authorization: Bearer <access token>` instead: the
// SDK's own check of an access token, `userManagement.isValidJwt(token)`
// (jose's jwtVerify against the SDK's createRemoteJWKSet, what
// authenticate() runs after unsealing), then the claims decoded for `sub`.
//
//   node server.mjs --port P --config FILE
//
// FILE is the JSON written by `bench_server emulator`:
// { base_url, api_key, client_id, cookie_password, cookie }.
// GET /api/ping answers 200 {"ok":true,"user":<id>} when the session is
// valid, else 401 {"ok":false,"reason":…}. Listens on 127.0.0.1 only and
// stops on SIGTERM / SIGINT.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { WorkOS } from '@workos-inc/node';

const COOKIE_NAME = 'wos-session';

function arg(name) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const port = Number(arg('--port'));
const configPath = arg('--config');
if (!Number.isInteger(port) || port <= 0 || !configPath) {
  process.stderr.write('usage: node server.mjs --port P --config FILE\n');
  process.exit(2);
}

const config = JSON.parse(readFileSync(configPath, 'utf8'));
const api = new URL(config.base_url);
const workos = new WorkOS(config.api_key, {
  apiHostname: api.hostname,
  port: Number(api.port),
  https: false,
  clientId: config.client_id,
});
const cookiePassword = config.cookie_password;

/** The value of the first cookie named `name`, like the Rust layer reads it. */
function readCookie(header, name) {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim().replace(/^"|"$/g, '');
    return value.includes('%') ? decodeURIComponent(value) : value;
  }
  return undefined;
}

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function ping(req, res) {
  const sessionData = readCookie(req.headers.cookie, COOKIE_NAME);
  let result;
  try {
    result = await workos.userManagement
      .loadSealedSession({ sessionData, cookiePassword })
      .authenticate();
  } catch (error) {
    // A cookie that does not unseal, or the JWKS being unreachable.
    send(res, 401, { ok: false, reason: String(error?.message ?? error) });
    return;
  }
  if (result.authenticated) {
    send(res, 200, { ok: true, user: result.user.id });
  } else {
    send(res, 401, { ok: false, reason: result.reason });
  }
}

async function claims(req, res) {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
  if (!token || !(await workos.userManagement.isValidJwt(token))) {
    send(res, 401, { ok: false, reason: token ? 'invalid_token' : 'no_token' });
    return;
  }
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  send(res, 200, { ok: true, user: payload.sub });
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (req.method === 'GET' && path === '/api/ping') {
    ping(req, res).catch((error) => send(res, 500, { ok: false, error: String(error) }));
  } else if (req.method === 'GET' && path === '/api/claims') {
    claims(req, res).catch((error) => send(res, 500, { ok: false, error: String(error) }));
  } else {
    send(res, 404, { ok: false, error: 'not found' });
  }
});
server.keepAliveTimeout = 65_000;

server.listen(port, '127.0.0.1', () => {
  console.log(`node bench server (${process.version}) on http://127.0.0.1:${port}/api/ping`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
