// A certified OpenID provider (the npm package oidc-provider) for the 帳號漫遊 browser test.
// Started by tests/e2e/test_sso_journey.py on 127.0.0.1 with a free port; prints one JSON line
// {"issuer": ...} when it listens. Configuration comes as one JSON argument:
//   {"client_id", "client_secret", "redirect_uri", "users": {sub: {"name", "email", "eduinfo"}}}
// Besides the provider's own endpoints it serves GET /eduinfo (bearer access token, like the MOE
// resource), POST /test/users (the test replaces the users, e.g. to change a school) and
// POST /test/tamper {"mode"} (the token endpoint's id_token is then altered, as an attacker in the
// middle or a broken provider would: the certified provider never issues such a token itself).
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2]);
let users = options.users || {};
let tamper = '';

// The provider's own signing key (published in its JWKS), and one it never publishes.
const KID = 'peer-key';
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const { privateKey: strangerKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64url = (data) => Buffer.from(data).toString('base64url');

function sign(header, payload, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  if (header.alg === 'none') {
    return `${input}.`;
  }
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function tampered(idToken, mode) {
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: KID, typ: 'JWT' };
  let key = privateKey;
  switch (mode) {
    case 'unknown_key': key = strangerKey; header.kid = 'not-in-the-jwks'; break;
    case 'alg_none': header.alg = 'none'; break;
    case 'wrong_nonce': payload.nonce = 'not-the-nonce'; break;
    case 'other_sub': payload.sub = options.other_sub || 'someone-else'; break;
    case 'expired': payload.iat = now - 3600; payload.exp = now - 600; break;
    case 'wrong_audience': payload.aud = 'another-client'; break;
    default: throw new Error(`unknown tamper mode ${mode}`);
  }
  return sign(header, payload, key);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.client_id,
        client_secret: options.client_secret,
        redirect_uris: [options.redirect_uri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
      },
    ],
    scopes: ['openid', 'email', 'profile', 'eduinfo'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] },
    features: { devInteractions: { enabled: true } },
    // A first-party client: no consent screen (the MOE SSO asks nothing either).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        return ctx.oidc.provider.Grant.find(grantId);
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile eduinfo');
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      if (!users[id]) {
        return undefined;
      }
      return {
        accountId: id,
        async claims() {
          const user = users[id];
          return { sub: id, name: user.name, email: user.email, email_verified: true };
        },
      };
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (tamper && ctx.oidc?.route === 'token' && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token, tamper) };
    }
  });
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/eduinfo' && req.method === 'GET') {
      const token = (req.headers.authorization || '').replace(/^Bearer /, '');
      const access = token ? await provider.AccessToken.find(token) : undefined;
      const user = access && users[access.accountId];
      res.writeHead(user ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(user ? { sub: access.accountId, ...user.eduinfo } : { error: 'invalid_token' }));
      return;
    }
    if (url.pathname === '/test/users' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        users = JSON.parse(body);
        res.writeHead(204);
        res.end();
      });
      return;
    }
    if (url.pathname === '/test/tamper' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        tamper = JSON.parse(body).mode || '';
        res.writeHead(204);
        res.end();
      });
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
