import django_filters
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts import outreach, rules, services
from accounts.api.serializers import (
    AccountSerializer,
    CompensationMoveSerializer,
    CompensationSerializer,
    CompleteFollowUpSerializer,
    ContactSerializer,
    ContactUpdateSerializer,
    DerivedSerializer,
    DraftedMessageSerializer,
    FollowUpSerializer,
    ImpactCreateSerializer,
    ImpactDetailSerializer,
    ImpactMoveSerializer,
    ImpactSerializer,
    SlaCreditSerializer,
)
from accounts.choices import OPEN_COMPENSATION_STATES, CompensationState, ImpactState, Tier
from accounts.models import Account, Compensation, Contact, FollowUp, Impact
from accounts.priority import ranked
from accounts.sla import suggest_for
from core.api import FilterSet, RolePermissions
from incidents.models import Incident


class ChangePermissions(RolePermissions):
    """For actions that change an existing object: POST needs change_<model>, not add_<model>."""

    perms_map = {**RolePermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class CompensationMovePermissions(RolePermissions):
    """Moving compensation: account managers (change_compensation) and communications leads
    (approve_compensation); accounts.rules decides which move each may make on which compensation."""

    perms_map = {**RolePermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}

    def has_permission(self, request, view):
        user = request.user
        return super().has_permission(request, view) and (
            user.has_perm("accounts.change_compensation") or user.has_perm("accounts.approve_compensation")
        )


class ObjectRuleMixin:
    """Check the object-level rule (accounts.rules) when a change is asked for, before the body is validated,
    so that someone else's object answers 403 whatever was sent. The services check it again."""

    write_actions = ("update", "partial_update", "destroy")

    def check_rule(self, user, obj) -> None:
        raise NotImplementedError

    def get_object(self):
        obj = super().get_object()
        if self.action in self.write_actions:
            self.check_rule(self.request.user, obj)
        return obj


def _open_count(model, **conditions):
    rows = (model.objects.filter(impact=OuterRef("pk"), **conditions).order_by().values("impact")
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def impacts_for_listing(impacts):
    """Ranked by priority, with the score's factors, the account and the open counts: the same few queries
    for a page of ten or of two hundred."""
    return ranked(impacts).select_related("account").annotate(
        open_follow_ups=_open_count(FollowUp, done_at__isnull=True),
        open_compensations=_open_count(Compensation, state__in=OPEN_COMPENSATION_STATES),
    )


def follow_ups_open_first():
    """Open follow-ups first, soonest due first; NULL done_at sorts first on every database."""
    return FollowUp.objects.order_by(F("done_at").asc(nulls_first=True), "due_at", "id")


def with_work(impacts):
    """Also the follow-ups and compensation, for the detail representation."""
    return impacts.prefetch_related(Prefetch("follow_ups", queryset=follow_ups_open_first()),
                                    Prefetch("compensations", queryset=Compensation.objects.with_approval_total()))


# --- Accounts and contacts ---------------------------------------------------------------------------

class AccountFilter(FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Text in the name.")
    tier = django_filters.MultipleChoiceFilter(choices=Tier.choices)

    class Meta:
        model = Account
        fields = ["tier", "owner", "q"]


class AccountViewSet(
    ObjectRuleMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customer accounts. Account managers, communications leads and support read all of them; account
    managers create accounts (theirs unless they name another owner, who must be an account manager) and
    change only the accounts they own; admins change any. Accounts are never deleted through the API.

    Email domains and social handles tie mentions and contacts to an account: each belongs to one account
    only, and sending the list replaces it."""

    queryset = Account.objects.prefetch_related("email_domains", "social_handles", "components", "contacts")
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    ordering_fields = ["name", "arr", "tier", "renewal_date", "updated_at"]

    def check_rule(self, user, account):
        rules.check_edit_account(user, account)

    def perform_update(self, serializer):
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)  # fresh related lists

    def perform_create(self, serializer):
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


@extend_schema_view(
    update=extend_schema(request=ContactUpdateSerializer, responses=ContactSerializer),
    partial_update=extend_schema(request=ContactUpdateSerializer, responses=ContactSerializer),
)
class ContactViewSet(ObjectRuleMixin, viewsets.ModelViewSet):
    """People at customer accounts, who receive targeted messages. Everyone with an accounts role reads them;
    the account's owner (an account manager) or an admin adds, changes and removes them. Marking a contact
    primary clears the account's other primary contact."""

    queryset = Contact.objects.select_related("account")
    serializer_class = ContactSerializer
    filterset_fields = ["account", "is_primary"]
    ordering_fields = ["name", "email"]

    def check_rule(self, user, contact):
        rules.check_edit_account(user, contact.account)

    def perform_destroy(self, contact):
        services.delete_contact(contact, actor=self.request.user)


# --- Impacts -----------------------------------------------------------------------------------------

INCIDENT_IN_PATH = OpenApiParameter("incident_pk", int, OpenApiParameter.PATH, description="The incident's id.")


@extend_schema_view(list=extend_schema(parameters=[INCIDENT_IN_PATH]))
class IncidentImpactViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The accounts an incident affected, highest priority first (see `score_parts` for why). Everyone with
    an accounts role reads them; communications leads and account managers record an affected account on
    any incident (it belongs to the account's owner), one impact per account."""

    serializer_class = ImpactSerializer
    queryset = Impact.objects.all()
    filter_backends = []

    def get_incident(self) -> Incident:
        if not hasattr(self, "_incident"):
            # DRF's get_object_or_404: an id that is not a number is a 404 too, not a ValueError.
            self._incident = get_object_or_404(Incident.objects.all(), pk=self.kwargs["incident_pk"])
        return self._incident

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not str(self.kwargs.get("incident_pk", "")).isdecimal():
            return Impact.objects.none()  # the permission check asks for it before get_incident() answers 404
        return impacts_for_listing(Impact.objects.filter(incident_id=self.kwargs["incident_pk"]))

    def list(self, request, *args, **kwargs):
        self.get_incident()  # 404 for an unknown incident, not an empty list
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "incident_pk" in self.kwargs:
            context["incident"] = self.get_incident()
        return context

    @extend_schema(request=ImpactCreateSerializer, responses={201: ImpactDetailSerializer},
                   parameters=[INCIDENT_IN_PATH])
    def create(self, request, *args, **kwargs):
        """Record an affected account (source `api`). An account already recorded on the incident is a 400."""
        body = ImpactCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        impact = body.save()
        fresh = with_work(impacts_for_listing(Impact.objects.filter(pk=impact.pk))).get()
        return Response(ImpactDetailSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DerivedSerializer, parameters=[INCIDENT_IN_PATH])
    @action(detail=False, methods=["post"])
    def derive(self, request, incident_pk=None):
        """Record every account that uses one of the incident's components and is not recorded yet. Level
        follows severity; downtime is how long the incident has lasted."""
        created = services.derive_impacts(self.get_incident(), actor=request.user)
        return Response({"created": created})


class ImpactFilter(FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ImpactState.choices)
    tier = django_filters.MultipleChoiceFilter(field_name="account__tier", choices=Tier.choices)
    mine = django_filters.BooleanFilter(method="filter_mine",
                                        help_text="true: impacts you own, or on accounts you own.")
    overdue = django_filters.BooleanFilter(method="filter_overdue",
                                           help_text="true: with an open follow-up past its due time.")

    class Meta:
        model = Impact
        fields = ["incident", "account", "state", "owner", "level", "tier", "mine", "overdue"]

    def filter_mine(self, impacts, name, value):
        user = self.request.user
        mine = Q(owner=user) | Q(account__owner=user)
        return impacts.filter(mine) if value else impacts.exclude(mine)

    def filter_overdue(self, impacts, name, value):
        overdue = Exists(FollowUp.objects.filter(impact=OuterRef("pk"), done_at__isnull=True,
                                                 due_at__lte=timezone.now()))
        return impacts.filter(overdue) if value else impacts.exclude(overdue)


class ImpactViewSet(ObjectRuleMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Impacts across incidents, highest priority first by default. Everyone with an accounts role reads
    them; the owner of the impact or of its account (an account manager), or an admin, changes and moves
    it. New impacts are recorded under /incidents/{id}/impacts/.

    An impact closes only once its follow-ups are done and its compensation is settled; a refused move
    answers 409 with what is still open."""

    serializer_class = ImpactSerializer
    filterset_class = ImpactFilter
    ordering_fields = ["score", "created_at", "state_changed_at", "downtime_minutes"]
    queryset = Impact.objects.all()

    def get_queryset(self):
        impacts = impacts_for_listing(Impact.objects.all())
        return impacts if self.action == "list" else with_work(impacts)

    def get_serializer_class(self):
        return ImpactSerializer if self.action == "list" else ImpactDetailSerializer

    def check_rule(self, user, impact):
        rules.check_work_impact(user, impact)

    @extend_schema(request=ImpactSerializer, responses=ImpactDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change level, downtime, SLA breach, affected users or share, or the owner (no PUT: send what changes)."""
        body = ImpactSerializer(self.get_object(), data=request.data, partial=True,
                                context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return self._detail(body.save())

    def _detail(self, impact) -> Response:
        fresh = self.get_queryset().get(pk=impact.pk)
        return Response(ImpactDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=ImpactMoveSerializer, responses=ImpactDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangePermissions])
    def move(self, request, pk=None):
        """Move to another state (`allowed_states`). Closing needs every follow-up done and all compensation
        settled; reopening a closed impact needs a note."""
        body = ImpactMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._detail(services.move_impact(self.get_object(), actor=request.user, **body.validated_data))

    @extend_schema(responses=SlaCreditSerializer)
    @action(detail=True, methods=["get"], url_path="sla-credit")
    def sla_credit(self, request, pk=None):
        """The SLA calculator's suggested service credit for this impact, from the month's uptime."""
        suggestion = suggest_for(self.get_object())
        return Response({**suggestion.as_dict(), "summary": suggestion.summary})

    @extend_schema(request=None, responses={201: DraftedMessageSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermissions])
    def message(self, request, pk=None):
        """Draft a message to this account's contacts (audience: affected accounts, channel: email), from the
        impact and its offered compensation. It is then edited, submitted and approved like any message."""
        message = outreach.draft_account_message(self.get_object(), actor=request.user)
        return Response({"message": message.pk, "url": reverse("message-detail", args=[message.pk])},
                        status=status.HTTP_201_CREATED)


# --- Follow-ups and compensation ---------------------------------------------------------------------

class FollowUpFilter(FilterSet):
    open = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", help_text="true: not done yet.")
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="true: not done and past due.")

    class Meta:
        model = FollowUp
        fields = ["impact", "owner", "kind", "open", "overdue"]

    def filter_overdue(self, follow_ups, name, value):
        overdue = Q(done_at__isnull=True, due_at__lte=timezone.now())
        return follow_ups.filter(overdue) if value else follow_ups.exclude(overdue)


class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Calls, emails and meetings planned with an affected account. Everyone with an accounts role reads
    them; the owner of the impact or of its account (an account manager), or an admin, plans them (for
    themselves or another account manager) and completes them with the outcome. They are records: never
    edited or deleted, only completed."""

    queryset = follow_ups_open_first()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    ordering_fields = ["due_at", "created_at", "done_at"]

    @extend_schema(request=CompleteFollowUpSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangePermissions])
    def complete(self, request, pk=None):
        """Mark it done with the outcome (required) and the next step; done twice is a 409."""
        body = CompleteFollowUpSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        follow_up = services.complete_follow_up(self.get_object(), actor=request.user, **body.validated_data)
        return Response(FollowUpSerializer(follow_up, context=self.get_serializer_context()).data)


class CompensationFilter(FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=CompensationState.choices)

    class Meta:
        model = Compensation
        fields = ["impact", "state", "kind"]


class CompensationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          viewsets.GenericViewSet):
    """Service credits, discounts and gifts for affected accounts. Everyone with an accounts role reads them;
    the owner of the impact or of its account (an account manager), or an admin, proposes them and moves
    them on. A service credit records the SLA calculator's suggestion; a different amount needs an
    `override_reason`.

    Approval: once the impact's compensation (this one included, declined and withdrawn left out) adds up to more
    than the approval limit, a communications lead who did not propose it approves; at or below the limit,
    whoever works the impact approves. Approving and offering value a discount again from the account's fee now;
    an offer whose value rose and so takes the sum above the limit goes back to proposed for a lead (409). `state`,
    `proposed_by` and `approved_by` are never sent: they follow from who does what."""

    queryset = Compensation.objects.with_approval_total().select_related("impact__account")
    serializer_class = CompensationSerializer
    filterset_class = CompensationFilter
    ordering_fields = ["created_at", "state_changed_at", "amount"]

    @extend_schema(request=CompensationMoveSerializer, responses=CompensationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CompensationMovePermissions])
    def move(self, request, pk=None):
        """Move to another state (`allowed_states`): approved, offered, accepted or declined, applied, or
        withdrawn. A refused move answers 409 (an offer whose value rose above the limit also goes back to
        proposed); approving above the limit without being another lead, 403."""
        body = CompensationMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        compensation = services.move_compensation(self.get_object(), actor=request.user, **body.validated_data)
        fresh = self.get_queryset().get(pk=compensation.pk)
        return Response(CompensationSerializer(fresh, context=self.get_serializer_context()).data)
