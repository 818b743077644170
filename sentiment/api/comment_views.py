"""POST /api/v1/mentions/comments/: comments from our blogs and sites, as mentions (docs/api.md, "Blog and site
comments"). A machine calls it, never a user: a comment site proves which site it is either by

- `Authorization: Bearer <token>`: the site's token, found by its first characters and compared by digest in
  constant time; or
- an HMAC-SHA256 of the raw body with the site's secret, hex, in `X-Signature: sha256=<hex>`, naming the site by
  `X-Comment-Site: <id>`. With `X-Signature-Timestamp: <unix seconds>` the signed text is `<timestamp>:<body>` and
  the timestamp must be within SIGNATURE_TOLERANCE of now (a captured request cannot be replayed later).

Anything presented that is wrong is 401; a user's API token is 403 (not a comment site); a body that is not comments
is 400; each comment gets a result (created, duplicate, skipped, or error with the reason).
"""


from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, JSONParser, check_body_signature
from sentiment.sources.comments import PayloadError, comment_list, receive_comments
from sentiment.sources.models import COMMENT_SITE_TOKEN_KEY_LENGTH, CommentSite

SIGNATURE_HEADER = "X-Signature"
SITE_HEADER = "X-Comment-Site"


class CommentSiteAuthentication(authentication.BaseAuthentication):
    """(AnonymousUser, CommentSite) for a valid token or signature; None when the request carries neither (a user's
    knox token is then read, to be told 403); 401 for anything presented that is wrong."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header[:7].lower() == "bearer ":
            return AnonymousUser(), self._by_token(header[7:].strip())
        signature = request.headers.get(SIGNATURE_HEADER)
        if signature is not None:
            return AnonymousUser(), self._by_signature(request, signature)
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="comments"'

    def _by_token(self, token: str) -> CommentSite:
        site = None
        if COMMENT_SITE_TOKEN_KEY_LENGTH < len(token) <= 200:
            site = CommentSite.objects.filter(token_key=token[:COMMENT_SITE_TOKEN_KEY_LENGTH]).first()
        if site is None or not site.token_matches(token):
            raise exceptions.AuthenticationFailed("The token is not a comment site's token.")
        return _enabled(site)

    def _by_signature(self, request, signature: str) -> CommentSite:
        named = request.headers.get(SITE_HEADER, "")
        site = CommentSite.objects.filter(pk=int(named)).first() if named.isascii() and named.isdigit() \
            and len(named) <= 18 else None
        if site is None:
            raise exceptions.AuthenticationFailed(f"Name the comment site that signed the request ({SITE_HEADER}: "
                                                  "<id>).")
        if not site.hmac_secret:
            raise exceptions.AuthenticationFailed("This comment site has no signing secret; use its token.")
        body = request._request.body  # the raw bytes as sent
        check_body_signature(request, body, site.hmac_secret, signature)
        return _enabled(site)


def _enabled(site: CommentSite) -> CommentSite:
    if not site.enabled:
        raise exceptions.AuthenticationFailed("This comment site is disabled.")
    return site


class FromCommentSite(permissions.BasePermission):
    """Only a comment site posts comments; a user's token (any role) is refused with 403."""

    message = "Comments are posted by a comment site (its token or signature), not with a user's token."

    def has_permission(self, request, view):
        if request.method not in view.allowed_methods:
            return True  # let DRF answer 405
        return isinstance(request.auth, CommentSite)


class CommentSiteAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = CommentSiteAuthentication
    name = "commentSiteToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A comment site's token; or sign the body instead (docs/api.md, \"Blog and site "
                               "comments\")."}


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


class CommentResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(["created", "duplicate", "skipped", "error"])
    id = serializers.IntegerField(required=False, help_text="The mention's id (created, duplicate).")
    external_id = serializers.CharField(required=False, help_text="<site id>:<comment id>")
    reason = serializers.CharField(required=False)


class CommentResultsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = CommentResultSerializer(many=True)


class CommentView(APIView):
    """Comments from one of our blogs or sites, stored as mentions (source "blog"). The body is a WordPress-style
    comment (`comment_ID`, `comment_post_ID`, `comment_author`, `comment_author_email`, `comment_content`,
    `comment_date_gmt`, `comment_link` or `post_url`) or a Disqus-style post (`id`, `raw_message`, `createdAt`,
    `author`, `thread`, `url`); one, a list, or `{"comments": [...]}`. Idempotent per site and comment id: a repeat
    is a duplicate and changes nothing. Spam and deleted comments are skipped."""

    authentication_classes = [CommentSiteAuthentication, TokenAuthentication]
    permission_classes = [FromCommentSite]
    throttle_scope = "ingest"
    parser_classes = [JSONParser]  # the signature is of the JSON body as sent

    @extend_schema(
        operation_id="mentions_comments_create",
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter(SITE_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=False,
                             description="The comment site's id, for a signed request."),
        ],
        responses={200: CommentResultsSerializer,
                   413: OpenApiResponse(ErrorSerializer, description="Over MENTIONS_BULK_LIMIT comments.")},
    )
    def post(self, request):
        try:
            comments = comment_list(request.data)
        except PayloadError as error:
            raise exceptions.ValidationError({"comments": [str(error)]}) from None
        limit = settings.MENTIONS_BULK_LIMIT
        if len(comments) > limit:
            raise PayloadTooLarge(f"At most {limit:,} comments per request; this one has {len(comments):,}.")
        results = receive_comments(request.auth, comments)
        count = {status: sum(result["status"] == status for result in results)
                 for status in ("created", "duplicate", "skipped", "error")}
        return Response({"created": count["created"], "duplicates": count["duplicate"], "skipped": count["skipped"],
                         "errors": count["error"], "results": results})
