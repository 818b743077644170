"""How an alert source proves who it is on POST /api/v1/alerts/ (docs/api.md, "Alerts"). Either:

- `Authorization: Bearer <token>`: the source's token, found by its first characters and compared by digest in
  constant time; or
- an HMAC-SHA256 of the raw request body with the source's secret, hex, in `X-Signature: sha256=<hex>` (the
  `sha256=` is optional, and Grafana's own header `X-Grafana-Alerting-Signature` is read too), with the source named
  by `X-Alert-Source: <id>`, `?source=<id>` or the generic shape's `source_id`. With `X-Signature-Timestamp: <unix
  seconds>` (Grafana's "timestamp header") the signed text is `<timestamp>:<body>` and the timestamp must be within
  SIGNATURE_TOLERANCE of now, so that a captured request cannot be replayed later.

This is for machines only and is used by this one endpoint: the users' knox tokens are read as well, but only so
that a user's token is told 403 ("not an alert source") rather than 401.
"""

import json

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from comms.models import AlertSource
from comms.models.alerts import TOKEN_KEY_LENGTH
from core.api import check_body_signature

SIGNATURE_HEADERS = ("X-Signature", "X-Grafana-Alerting-Signature")
SOURCE_HEADER = "X-Alert-Source"


class AlertSourceAuthentication(authentication.BaseAuthentication):
    """(AnonymousUser, AlertSource) for a valid token or signature; None when the request carries neither (another
    authenticator may know it); 401 for anything presented that is wrong."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header[:7].lower() == "bearer ":
            return AnonymousUser(), self._by_token(header[7:].strip())
        signature = next((request.headers[name] for name in SIGNATURE_HEADERS if name in request.headers), None)
        if signature is not None:
            return AnonymousUser(), self._by_signature(request, signature)
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="alerts"'

    def _by_token(self, token: str) -> AlertSource:
        source = None
        if len(token) > TOKEN_KEY_LENGTH and len(token) <= 200:
            source = AlertSource.objects.filter(token_key=token[:TOKEN_KEY_LENGTH]).first()
        if source is None or not source.token_matches(token):
            raise exceptions.AuthenticationFailed("The token is not an alert source's token.")
        return _enabled(source)

    def _by_signature(self, request, signature: str) -> AlertSource:
        body = request._request.body  # the raw bytes as sent; DRF parses them from Django's copy afterwards
        source = _named_source(request, body)
        if source is None:
            raise exceptions.AuthenticationFailed(
                f"Name the alert source that signed the request ({SOURCE_HEADER}: <id>, or ?source=<id>).")
        if not source.hmac_secret:
            raise exceptions.AuthenticationFailed("This alert source has no signing secret; use its token.")
        check_body_signature(request, body, source.hmac_secret, signature)
        return _enabled(source)


def _enabled(source: AlertSource) -> AlertSource:
    if not source.enabled:
        raise exceptions.AuthenticationFailed("This alert source is disabled.")
    return source


def _named_source(request, body: bytes) -> AlertSource | None:
    named = request.headers.get(SOURCE_HEADER) or request.query_params.get("source")
    if named is None:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        named = data.get("source_id") if isinstance(data, dict) else None
        named = str(named) if isinstance(named, int) and not isinstance(named, bool) else None
    if not named or not (named.isascii() and named.isdigit()) or len(named) > 18:  # "²".isdigit() is True
        return None
    return AlertSource.objects.filter(pk=int(named)).first()


class FromAlertSource(permissions.BasePermission):
    """Only an alert source posts alerts; a user's token (any role) is refused with 403."""

    message = "Alerts are posted by an alert source (its token or signature), not with a user's token."

    def has_permission(self, request, view):
        if request.method not in view.allowed_methods:
            return True  # let DRF answer 405
        return isinstance(request.auth, AlertSource)


class AlertSourceAuthenticationScheme(OpenApiAuthenticationExtension):
    """In the schema: the alert source's bearer token (the signature is described on the operation)."""

    target_class = AlertSourceAuthentication
    name = "alertSourceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An alert source's token; or sign the body instead (docs/api.md, \"Alerts\")."}
