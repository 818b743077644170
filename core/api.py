"""API conventions shared by every app: one error shape, role-based permissions, pagination, schema."""

import hashlib
import hmac
import time
from datetime import UTC, datetime

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, parsers, permissions, serializers, throttling

from core import ratelimit
from core.statemachine import TransitionNotAllowed
from core.validators import whole_number


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def exception_handler(exc, context):
    """Every error leaves the API as {"status", "code", "message", "fields"?}."""
    # Imported here: rest_framework.views loads DEFAULT_PERMISSION_CLASSES, which live in this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, TransitionNotAllowed):
        exc = Conflict(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # keep the rule's own explanation

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body = {"status": response.status_code, "code": _code(exc), "message": _message(exc)}
    if isinstance(exc, exceptions.ValidationError):
        body["fields"] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    response.data = body
    return response


def _code(exc) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return codes if isinstance(codes, str) else "error"


def _message(exc) -> str:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            names = [name for name in detail if name != "non_field_errors"]
            general = [str(message) for message in detail.get("non_field_errors", [])]
            parts = general + ([f"Check these fields: {', '.join(names)}."] if names else [])
            return " ".join(parts) or "The request is invalid."
        return " ".join(str(message) for message in detail) or "The request is invalid."
    return str(exc.detail)


MAX_JSON_DEPTH = 32  # no request body of ours nests deeper than 4; 1,000 levels overflowed the parser's stack


def lone_surrogate(text: str) -> bool:
    """A UTF-16 half (\\ud800–\\udfff) on its own: valid in JSON's escapes, but no character; UTF-8 and PostgreSQL
    refuse it, which made it a 500 at the database."""
    return any("\ud800" <= char <= "\udfff" for char in text) if not text.isascii() else False


def _unsound_json(value, surrogates: bool = True) -> str | None:
    """Why a parsed body cannot be taken (nested too deeply; with `surrogates`, a lone surrogate in a key or a
    string), or None. Iterative, so that it cannot overflow the stack itself."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        if isinstance(node, dict):
            if surrogates and any(lone_surrogate(key) for key in node):
                return SURROGATE_REFUSAL
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif surrogates and isinstance(node, str) and lone_surrogate(node):
            return SURROGATE_REFUSAL
    return None


SURROGATE_REFUSAL = "The JSON body holds a lone surrogate (\\ud800–\\udfff), which is not a character."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 what would otherwise be a 500 further on: nesting deep enough to
    overflow Python's stack (RecursionError) and lone surrogates. A view that reports per item (the bulk mention
    ingest) sets `per_item_surrogates = True` and refuses such items itself, keeping the others."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.") from None
        view = (parser_context or {}).get("view")
        if problem := _unsound_json(data, surrogates=not getattr(view, "per_item_surrogates", False)):
            raise exceptions.ParseError(problem)
        return data


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False, help_text="Per-field messages, on 400 only.")


class StrictFieldsMixin:
    """Refuse unknown and read-only fields in a request body instead of silently ignoring them.

    A client that sends `approver` or `state` learns at once that it cannot set them (OWASP API3).
    """

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = {
                name: ["This field is read-only and cannot be set."] if name in self.fields else ["Unknown field."]
                for name in data.keys()
                if name not in writable
            }
            if refused:
                raise exceptions.ValidationError(refused)
        return super().to_internal_value(data)


class IdField(serializers.PrimaryKeyRelatedField):
    """An object by id: a whole number, or its digits as a string. DRF's field let the model's int() read 1.9 as 1
    and 1e400 (infinity) overflowed into a 500."""

    def to_internal_value(self, data):
        if whole_number(data) is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    """The API's model serializers: foreign keys the model declares are IdFields."""

    serializer_related_field = IdField


class UsernameField(serializers.SlugRelatedField):
    """A user named by username. A NUL character is "no such user" before it reaches the database: PostgreSQL
    refuses it in any query, which made `{"commander": "\\u0000"}` a 500 there."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


class RolePermissions(permissions.DjangoModelPermissions):
    """Model permissions from the user's role, for reading too: a role without `view_` cannot list."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        action_map = getattr(view, "action_map", None)
        if action_map is not None and request.method.lower() not in action_map and request.method != "OPTIONS":
            return True  # the viewset has no such operation: let DRF answer 405 rather than 403
        return super().has_permission(request, view)


class _InstantsInUTC:
    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, datetime) and value.tzinfo is not None:
                try:
                    cleaned[name] = value.astimezone(UTC)
                except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000
                    self.add_error(name, "This date and time is out of range.")
        return cleaned


class FilterSet(django_filters.FilterSet):
    """The API's filter sets: a date and time with any UTC offset filters as the instant it names. Python reads
    offsets up to ±23:59, PostgreSQL only to ±15:59: `?started_before=2026-11-23T10:00:00-19:00` was a 500 there."""

    def get_form_class(self):
        form = super().get_form_class()
        return type(form.__name__, (_InstantsInUTC, form), {})


class IdFilter(django_filters.NumberFilter):
    """An object id in the query string: a whole number the database can hold, else a 400. (A NumberFilter passed
    10**30 on to the database, which overflowed into a 500.)"""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ApiRateThrottle(throttling.BaseThrottle):
    """Requests per token (or signed-in user) and per client address, counted in the cache (core.ratelimit); a
    view or action with `throttle_scope` ("ingest", "preview") has a stricter limit of its own per token. Over a
    limit: 429 in the one error shape with Retry-After. Rates: API_RATE_* in settings (docs/configuration.md)."""

    def allow_request(self, request, view):
        self.seconds = 0
        caller = _caller(request)
        limits = [("api-ip", ratelimit.network_key(ratelimit.client_ip(request)), settings.API_RATE_PER_IP),
                  ("api-caller", caller, settings.API_RATE_PER_TOKEN)]
        scope = getattr(view, "throttle_scope", None)
        if scope:
            limits.append((f"api-{scope}", caller, settings.API_SCOPED_RATES[scope]))
        for name, key, rate in limits:
            self.seconds = max(self.seconds, ratelimit.hit(name, key, rate))
        return not self.seconds

    def wait(self):
        return self.seconds


def _caller(request) -> str | None:
    """Who is counted: the API token (each of a user's tokens on its own), else the signed-in user, else nobody
    (an anonymous request is counted by its address only)."""
    token = getattr(request, "auth", None)
    if getattr(token, "token_key", None):
        return f"token:{token.token_key}"
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def api_router():
    """The API's router: trailing slashes, no root view, and an id pattern that takes any path segment. DRF's
    default refuses a `.`, so `/incidents/1.5/` fell through to Django's HTML 404 page; now the view answers
    the API's JSON 404 for any id it cannot find or read."""
    # Imported here: rest_framework.routers loads rest_framework.views, which loads this module.
    from rest_framework.routers import DefaultRouter

    router = DefaultRouter(trailing_slash=True)
    router.include_root_view = False
    router._default_value_pattern = "[^/]+"
    return router


# --- Machine endpoints signed with a shared secret (alert sources, comment sites) ---------------------------

SIGNATURE_TIMESTAMP_HEADER = "X-Signature-Timestamp"
SIGNATURE_TOLERANCE = 300  # seconds either side of now


def check_body_signature(request, body: bytes, secret: str, signature: str) -> None:
    """HMAC-SHA256 of the raw body (or of "<timestamp>:<body>" when X-Signature-Timestamp is sent, which must be
    within SIGNATURE_TOLERANCE of now), given as hex with or without "sha256=", compared in constant time.
    Raises AuthenticationFailed (401) with the reason."""
    signed = body
    stamp = request.headers.get(SIGNATURE_TIMESTAMP_HEADER)
    if stamp is not None:
        if not (stamp.isascii() and stamp.isdigit()) or abs(time.time() - int(stamp[:12])) > SIGNATURE_TOLERANCE:
            raise exceptions.AuthenticationFailed(
                f"{SIGNATURE_TIMESTAMP_HEADER} must be the Unix time within {SIGNATURE_TOLERANCE} s of now.")
        signed = stamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    given = signature.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    if not hmac.compare_digest(expected, given.lower().encode("ascii", "replace").decode()):
        raise exceptions.AuthenticationFailed("The signature does not match the body.")
