"""The MOE SSO's OpenID Connect protocol (issue 19 point 1), on top of allauth's `openid_connect`.

allauth's provider does the authorization-code flow; for the `moe` app this module adds what it
leaves out or gets wrong:

- PKCE (S256) is allauth's own (`oauth_pkce_enabled` in the app settings, see settings.py).
- A `nonce` in the authorization request, derived from the flow's `state` (an HMAC with the
  SECRET_KEY), so it needs no storage of its own: allauth keeps the state in the session and
  refuses a callback whose state is not this browser's, and the id_token must carry this state's
  nonce.
- client_secret_basic with the client id and secret form-encoded before base64 (RFC 6749
  §2.3.1); allauth sends them raw, so a secret with `+` or `%` is refused by a strict provider.
- The id_token is required and verified in full, whether or not it came over TLS: signature with
  a key of the provider's JWKS (cached an hour, fetched anew when a token names a key it lacks) (only asymmetric algorithms; `alg: none` and HMAC refused), `iss`,
  `aud` (and `azp` when there are several audiences), `exp`, `iat`, `nonce`; and userinfo's `sub`
  must be the id_token's. allauth skips the signature check after a token exchange and checks no
  nonce (allauth.socialaccount.providers.openid_connect.views._decode_id_token).

The callback URL of the `moe` app is served by `callback` below (inservice/urls.py puts it before
allauth's), the login URL stays allauth's: `MoeSocialAccountAdapter.get_provider` hands allauth
`MoeProvider`, whose OAuth2 adapter is `MoeOAuth2Adapter`.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote_plus, urlsplit

import jwt
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.utils.crypto import salted_hmac

PROVIDER_ID = "moe"
NONCE_SALT = "teachers.oidc.nonce"
# Asymmetric signatures only: a symmetric one (HS256) would be keyed with the client secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60
# The provider's JWKS is kept this long; a token signed with a key the copy lacks fetches it anew.
JWKS_CACHE_SECONDS = 3600
JWKS_CACHE_PREFIX = "teachers.oidc.jwks:"


class TokenRefused(OAuth2Error):
    """A refused id_token or userinfo; `reason` is a short code for the log (never an ID)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def nonce_for(state_id: str) -> str:
    return salted_hmac(NONCE_SALT, str(state_id or ""), algorithm="sha256").hexdigest()


def form_encoded(value: str) -> str:
    """RFC 6749 §2.3.1: the client id and secret are form-urlencoded before Basic encoding."""
    return quote_plus(str(value), safe="")


class MoeOAuth2Client(OAuth2Client):
    def get_redirect_url(self, authorization_url, scope, extra_params) -> str:
        params = dict(extra_params or {})
        params["nonce"] = nonce_for(self.state)
        return super().get_redirect_url(authorization_url, scope, params)

    def get_access_token(self, code, pkce_code_verifier=None, extra_data=None):
        if not self.basic_auth:
            return super().get_access_token(
                code, pkce_code_verifier=pkce_code_verifier, extra_data=extra_data
            )
        raw = self.consumer_key, self.consumer_secret
        self.consumer_key, self.consumer_secret = form_encoded(raw[0]), form_encoded(raw[1])
        try:
            return super().get_access_token(
                code, pkce_code_verifier=pkce_code_verifier, extra_data=extra_data
            )
        finally:
            self.consumer_key, self.consumer_secret = raw


def _get_json(url: str) -> dict:
    with get_adapter().get_requests_session() as session:
        response = session.get(url, timeout=10)
        response.raise_for_status()
        data = response.json()
    if not isinstance(data, dict):
        raise TokenRefused("jwks_unreadable")
    return data


def provider_keys(jwks_uri: str, *, refresh: bool = False) -> tuple[list[dict], bool]:
    """The provider's keys (its JWKS) and whether they were fetched just now. They are kept
    JWKS_CACHE_SECONDS in the default cache (shared by every worker in production); `refresh`
    fetches them anew, as a key rotation needs."""
    cache_key = JWKS_CACHE_PREFIX + hashlib.sha256(jwks_uri.encode()).hexdigest()
    keys = None if refresh else cache.get(cache_key)
    if keys is not None:
        return keys, False
    keys = [k for k in _get_json(jwks_uri).get("keys") or [] if isinstance(k, dict)]
    cache.set(cache_key, keys, JWKS_CACHE_SECONDS)
    return keys, True


def _decode(raw: str, keys: list[dict], *, header: dict, issuer: str, client_id: str) -> dict:
    kid = header.get("kid")
    keys = [k for k in keys if k.get("use", "sig") == "sig" and (kid is None or k.get("kid") == kid)]
    if len(keys) != 1:
        raise TokenRefused("id_token_unknown_key")
    try:
        key = jwt.PyJWK(keys[0], algorithm=header["alg"])
        return jwt.decode(
            raw,
            key=key.key,
            algorithms=[header["alg"]],
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRefused("id_token_expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRefused("id_token_bad_signature") from exc
    except (jwt.InvalidIssuerError, jwt.InvalidAudienceError) as exc:
        raise TokenRefused("id_token_wrong_issuer_or_audience") from exc
    except jwt.PyJWTError as exc:
        raise TokenRefused("id_token_invalid") from exc


def verify_id_token(raw: str, *, jwks_uri: str, issuer: str, client_id: str, nonce: str) -> dict:
    """The id_token's claims, or TokenRefused with the reason.

    The keys come from the cached JWKS; when the cached copy has no key of the token's `kid`, or
    its key does not verify the signature (the provider rotated its keys), the JWKS is fetched
    anew once. Only the provider can cause that: the id_token comes from its token endpoint,
    server to server, never from the browser."""
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise TokenRefused("id_token_malformed") from exc
    if header.get("alg") not in ALGORITHMS:
        raise TokenRefused("id_token_algorithm_refused")
    keys, fresh = provider_keys(jwks_uri)
    try:
        claims = _decode(raw, keys, header=header, issuer=issuer, client_id=client_id)
    except TokenRefused as refused:
        if fresh or refused.reason not in ("id_token_unknown_key", "id_token_bad_signature"):
            raise
        keys, _fresh = provider_keys(jwks_uri, refresh=True)
        claims = _decode(raw, keys, header=header, issuer=issuer, client_id=client_id)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRefused("id_token_wrong_azp")
    if not hmac.compare_digest(str(claims.get("nonce")), nonce):
        raise TokenRefused("id_token_wrong_nonce")
    return claims


class MoeOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    client_class = MoeOAuth2Client

    def complete_login(self, request, app, token, **kwargs):
        raw = (kwargs.get("response") or {}).get("id_token")
        if not raw:
            raise TokenRefused("id_token_missing")
        config = self.openid_config
        claims = verify_id_token(
            raw,
            jwks_uri=config["jwks_uri"],
            issuer=config["issuer"],
            client_id=app.client_id,
            nonce=nonce_for(request.GET.get("state", "")),
        )
        userinfo = self._fetch_user_info(token.token)
        if not isinstance(userinfo, dict) or str(userinfo.get("sub")) != str(claims["sub"]):
            raise TokenRefused("userinfo_sub_differs")
        return self.get_provider().sociallogin_from_response(
            request, {"userinfo": userinfo, "id_token": claims}
        )


class MoeProvider(OpenIDConnectProvider):
    oauth2_adapter_class = MoeOAuth2Adapter


@login_not_required
def callback(request, provider_id: str = PROVIDER_ID):
    try:
        view = OAuth2CallbackView.adapter_view(MoeOAuth2Adapter(request, PROVIDER_ID))
        return view(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc


def configured_app() -> dict:
    for app in (settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect") or {}).get("APPS") or []:
        if app.get("provider_id") == PROVIDER_ID:
            return app
    return {}


def provider_origin() -> str | None:
    """scheme://host[:port] of the configured provider (its `server_url`), for the CSP."""
    url = (configured_app().get("settings") or {}).get("server_url") or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
