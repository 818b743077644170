import django_filters
from django.conf import settings
from django.db.models import F, Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, filters, generics, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from comms.models import Delivery
from core.api import ErrorSerializer, FilterSet, RolePermissions
from core.validators import whole_number
from incidents.models import Incident
from sentiment import quality, review
from sentiment.api.serializers import (
    AcceptSuggestionSerializer,
    AssignSerializer,
    BulkInSerializer,
    BulkResultSerializer,
    DismissSerializer,
    EscalateSerializer,
    IncidentSentimentSerializer,
    LexiconEntrySerializer,
    MentionSerializer,
    QualitySerializer,
    RespondSerializer,
)
from sentiment.choices import Label, Priority, ReviewState, Source
from sentiment.ingest import ingest
from sentiment.models import Mention
from sentiment.trends import incident_series


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


class MentionFilter(FilterSet):
    state = django_filters.MultipleChoiceFilter(field_name="review_state", choices=ReviewState.choices)
    label = django_filters.ChoiceFilter(choices=Label.choices)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    reason = django_filters.CharFilter(field_name="flag_reasons", lookup_expr="icontains",
                                       help_text="Text in a flag reason, e.g. refund.")
    posted_after = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="gte")
    posted_before = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="lt")

    class Meta:
        model = Mention
        fields = [
            "flagged", "spot_check", "state", "priority", "incident", "account", "label", "source", "reason",
            "posted_after", "posted_before",
        ]


class MentionOrdering(filters.OrderingFilter):
    """DRF's ordering, with mentions that have no reply target (unflagged) last whichever the direction, on SQLite
    as on PostgreSQL (whose defaults differ)."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*(
            F(name.lstrip("-")).desc(nulls_last=True) if name.startswith("-") else F(name).asc(nulls_last=True)
            for name in ordering
        ))


class ReviewerPermissions(RolePermissions):
    """Review actions need sentiment.review_mention (support staff and communications leads)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm("sentiment.review_mention")


class LexiconEditorPermissions(permissions.IsAuthenticated):
    """Accepting a suggested lexicon entry needs sentiment.add_ and change_lexiconentry (admins by default)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perms(
            ["sentiment.add_lexiconentry", "sentiment.change_lexiconentry"])


class MentionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mentions of us, scored and flagged. Support staff and communications leads read all and act on them;
    account managers read those linked to their accounts. Default order: newest first; `ordering=compound`
    puts the most negative first, `ordering=reply_due_at` the earliest reply target (those without one last)."""

    serializer_class = MentionSerializer
    filterset_class = MentionFilter
    filter_backends = [DjangoFilterBackend, MentionOrdering]
    ordering_fields = ["posted_at", "compound", "priority", "reply_due_at"]
    ordering = ["-posted_at", "-id"]
    queryset = Mention.objects.none()  # for the schema and the permission class; get_queryset scopes it
    throttle_scope = None  # the bulk ingest has a stricter rate of its own (core.api.ApiRateThrottle)

    @property
    def per_item_surrogates(self) -> bool:
        """The bulk ingest reports a lone surrogate as that item's error and keeps the others (core.api.JSONParser)."""
        return self.action == "bulk"

    def get_queryset(self):
        replies = Prefetch("replies", queryset=Delivery.objects.only(
            "id", "status", "external_id", "last_error", "sent_at"))
        return review.visible_mentions(self.request.user).select_related("assignee", "account").prefetch_related(
            replies)

    @extend_schema(
        request=BulkInSerializer,
        responses={200: BulkResultSerializer, 413: OpenApiResponse(ErrorSerializer, description="Over 1,000 items.")},
    )
    @action(detail=False, methods=["post"], url_path="bulk", throttle_scope="ingest")
    def bulk(self, request):
        """Ingest up to 1,000 mentions. Idempotent on (source, external_id): a repeat is a duplicate and changes
        nothing. Each item is reported: created, duplicate, or error with the reason; valid items are kept."""
        items = request.data.get("mentions") if isinstance(request.data, dict) else request.data
        if not isinstance(items, list):
            raise exceptions.ValidationError({"mentions": ["Send a list of mentions, or {\"mentions\": [...]}."]})
        limit = settings.MENTIONS_BULK_LIMIT
        if len(items) > limit:
            raise PayloadTooLarge(f"At most {limit:,} mentions per request; this one has {len(items):,}. "
                                  "Split it into smaller batches.")
        results = ingest(items, default_source=Source.API)
        tally = {status: sum(r.status == status for r in results) for status in ("created", "duplicate", "error")}
        return Response({
            "created": tally["created"], "duplicates": tally["duplicate"], "errors": tally["error"],
            "results": [result.as_dict() for result in results],
        })

    def _act(self, request, function, serializer_class):
        mention = self.get_object()
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        mention = function(mention, actor=request.user, **body.validated_data)
        return Response(MentionSerializer(self.get_queryset().get(pk=mention.pk)).data)

    @extend_schema(request=AssignSerializer, responses=MentionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ReviewerPermissions])
    def assign(self, request, pk=None):
        """Take it (or give it to `assignee`): new → in review."""
        return self._act(request, review.assign, AssignSerializer)

    @extend_schema(request=RespondSerializer, responses=MentionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ReviewerPermissions])
    def respond(self, request, pk=None):
        """Record the response; with post_to_x it is posted as a reply through the delivery machinery."""
        return self._act(request, review.respond, RespondSerializer)

    @extend_schema(request=EscalateSerializer, responses=MentionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ReviewerPermissions])
    def escalate(self, request, pk=None):
        """Hand the customer to account management."""
        return self._act(request, review.escalate, EscalateSerializer)

    @extend_schema(request=DismissSerializer, responses=MentionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ReviewerPermissions])
    def dismiss(self, request, pk=None):
        """No action needed: `kind` (a label for the flag quality figures), `reason` in words, or both."""
        return self._act(request, review.dismiss, DismissSerializer)

    @extend_schema(
        responses={200: QualitySerializer, 400: OpenApiResponse(ErrorSerializer, description="`days` is not 1–365.")},
        parameters=[OpenApiParameter("days", int, description="The period, in days back from now; default 30.")],
    )
    @action(detail=False, methods=["get"], permission_classes=[ReviewerPermissions], filter_backends=[],
            pagination_class=None)
    def quality(self, request):
        """Flag precision from review outcomes, recall estimated from the daily spot-checks, what false flags were
        flagged for, and suggested lexicon entries (sentiment.quality). Support staff and communications leads."""
        days = whole_number(request.query_params.get("days", "30"))
        if days is None or not 1 <= days <= 365:
            raise exceptions.ValidationError({"days": ["A whole number of days from 1 to 365."]})
        report = quality.quality_report(days)
        readable = set(self.get_queryset().filter(
            pk__in=[pk for item in report.suggestions for pk in item.examples]).values_list("pk", flat=True))
        for item in report.suggestions:
            item.examples = [pk for pk in item.examples if pk in readable]
        return Response(QualitySerializer(report.as_dict()).data)

    @extend_schema(request=AcceptSuggestionSerializer, responses={201: LexiconEntrySerializer})
    @action(detail=False, methods=["post"], url_path="quality/accept", filter_backends=[], pagination_class=None,
            permission_classes=[LexiconEditorPermissions])
    def accept_suggestion(self, request):
        """Add a suggested term to the lexicon (or re-weight it): those who may edit the lexicon (admins)."""
        body = AcceptSuggestionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = quality.accept_suggestion(actor=request.user, **body.validated_data)
        return Response(LexiconEntrySerializer(entry).data, status=201)


class IncidentSentimentView(generics.GenericAPIView):
    """GET /incidents/{id}/sentiment/: everyone who may read the incident."""

    queryset = Incident.objects.all()
    serializer_class = IncidentSentimentSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        responses={200: IncidentSentimentSerializer,
                   400: OpenApiResponse(ErrorSerializer, description="`bucket` is not a number from 1 to 1440.")},
        parameters=[OpenApiParameter("bucket", int, description="Minutes per bucket, from 1 to 1440; default 15.")],
    )
    def get(self, request, pk=None):
        """Mention volume, mean compound and share negative in 15-minute buckets (`bucket` = minutes), with a
        marker at every public message and the mean compound in the hour before and after it."""
        try:
            bucket = int(request.query_params.get("bucket", 15))
        except ValueError:
            bucket = 0
        if not 1 <= bucket <= 1440:
            raise exceptions.ValidationError({"bucket": ["Minutes per bucket, from 1 to 1440."]})
        return Response(incident_series(self.get_object(), bucket, max_buckets=2000))
