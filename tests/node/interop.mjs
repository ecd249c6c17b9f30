// The Node side of tests/node_interop.rs: seals and unseals with iron-session
// and @workos-inc/node, so the Rust tests can check our cookies against the
// real packages.
//
//   node interop.mjs <command> < input.json > output.json
//
// Input is one JSON document on stdin, output one JSON document on stdout.
// Any failure exits non-zero with the error on stderr.
//
// Commands:
//   versions             {} -> { node, ironSession, ironWebcrypto, workos }
//   iron-unseal          { cases: [{ sealed, password }] } -> { results: [result] }
//   iron-seal            { cases: [{ data, password, ttl? }] } -> { results: [result] }
//                        (ttl in seconds; omitted: iron-session's default)
//                        each result is { ok: value } or { error: message }
//   workos-authenticate  { api, cookie, cookiePassword }
//                        -> { cookieSession, withSessionCookie, sessionFromCookie }
//   workos-seal          { api, cookiePassword, refreshToken, authenticationResponse }
//                        -> { refreshed: { sealedSession, ... }, fromResponse }
//   workos-refresh       { api, cookie, cookiePassword } -> CookieSession#refresh() result
//
// `password` is a string or a { id: password } rotation map; `api` is
// { hostname, port, apiKey, clientId } of a fake WorkOS over plain HTTP.

import { readFileSync } from 'node:fs';
import { sealData, unsealData } from 'iron-session';
import { WorkOS } from '@workos-inc/node';

const commands = {
  versions: async () => ({
    node: process.version,
    ironSession: packageVersion('iron-session'),
    ironWebcrypto: packageVersion('iron-webcrypto'),
    workos: packageVersion('@workos-inc/node'),
  }),

  'iron-unseal': async ({ cases }) => ({
    results: await Promise.all(
      cases.map(({ sealed, password }) => settle(unsealData(sealed, { password }))),
    ),
  }),

  'iron-seal': async ({ cases }) => ({
    results: await Promise.all(
      cases.map(({ data, password, ttl }) =>
        settle(sealData(data, ttl === undefined ? { password } : { password, ttl })),
      ),
    ),
  }),

  'workos-authenticate': async ({ api, cookie, cookiePassword }) => {
    const workos = client(api);
    const cookieSession = await workos.userManagement
      .loadSealedSession({ sessionData: cookie, cookiePassword })
      .authenticate();
    const withSessionCookie = await workos.userManagement.authenticateWithSessionCookie({
      sessionData: cookie,
      cookiePassword,
    });
    const sessionFromCookie = await workos.userManagement.getSessionFromCookie({
      sessionData: cookie,
      cookiePassword,
    });
    return { cookieSession, withSessionCookie, sessionFromCookie };
  },

  'workos-seal': async ({ api, cookiePassword, refreshToken, authenticationResponse }) => {
    const workos = client(api);
    // What a sign-in callback does: authenticate with `sealSession: true`
    // (the SDK deserializes WorkOS's answer, then seals it).
    const refreshed = await workos.userManagement.authenticateWithRefreshToken({
      refreshToken,
      session: { sealSession: true, cookiePassword },
    });
    // The same sealing helper, fed a response as the SDK's types describe it.
    const fromResponse = await workos.userManagement.sealSessionDataFromAuthenticationResponse({
      authenticationResponse,
      cookiePassword,
    });
    return { refreshed, fromResponse };
  },

  'workos-refresh': async ({ api, cookie, cookiePassword }) => {
    const workos = client(api);
    const result = await workos.userManagement
      .loadSealedSession({ sessionData: cookie, cookiePassword })
      .refresh();
    // The error object (on failure) does not serialize usefully.
    if (result.error) result.error = String(result.error);
    return result;
  },
};

async function settle(promise) {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
}

function client({ hostname, port, apiKey, clientId }) {
  return new WorkOS(apiKey, {
    apiHostname: hostname,
    port,
    https: false,
    clientId,
    maxRetries: 0,
    timeout: 10_000,
  });
}

function packageVersion(name) {
  const url = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).version;
}

async function main() {
  const name = process.argv[2];
  const command = commands[name];
  if (!command) {
    throw new Error(`unknown command ${JSON.stringify(name)}; one of ${Object.keys(commands)}`);
  }
  const input = JSON.parse(readFileSync(0, 'utf8') || '{}');
  const output = await command(input);
  process.stdout.write(JSON.stringify(output));
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exitCode = 1;
});
