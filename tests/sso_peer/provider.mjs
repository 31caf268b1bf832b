// A certified OpenID provider (the npm package oidc-provider) for the 帳號漫遊 browser test.
// Started by tests/e2e/test_sso_journey.py on 127.0.0.1 with a free port; prints one JSON line
// {"issuer": ...} when it listens. Configuration comes as one JSON argument:
//   {"client_id", "client_secret", "redirect_uri", "users": {sub: {"name", "email", "eduinfo"}}}
// Besides the provider's own endpoints it serves GET /eduinfo (bearer access token, like the MOE
// resource) and POST /test/users (the test replaces the users, e.g. to change a school).
import http from 'node:http';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2]);
let users = options.users || {};

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
    callback(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
