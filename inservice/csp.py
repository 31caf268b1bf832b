"""The portal's CSP (django-csp) with the MOE SSO provider allowed as a form target.

The 帳號漫遊 button posts to /accounts/oidc/moe/login/, which answers a redirect to the provider;
browsers apply `form-action` to that redirect too, so `form-action 'self'` alone blocks it
(issue 19 point 1). The provider's origin is read from the `moe` app's `server_url`, the same
setting the sign-in uses, on every response.
"""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware

from teachers.oidc import provider_origin


class CSPMiddleware(BaseCSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        origin = provider_origin()
        if origin and not report_only:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), origin]
            parts.update = update
        return parts
