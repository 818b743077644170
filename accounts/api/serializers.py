from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import rules, services
from accounts.choices import (
    COMPENSATION_MACHINE,
    IMPACT_MACHINE,
    CompensationState,
    ImpactState,
)
from accounts.models import Account, Compensation, Contact, FollowUp, Impact
from accounts.priority import explain
from core.api import IdField, ModelSerializer, StrictFieldsMixin
from incidents.models import Component

User = get_user_model()


def _actor(serializer):
    return serializer.context["request"].user


class NamesField(serializers.ListField):
    """A list of strings read from one column of a related set (e.g. an account's email domains)."""

    def __init__(self, column: str, **kwargs):
        self.column = column
        super().__init__(child=serializers.CharField(max_length=253), **kwargs)

    def to_representation(self, manager):
        return [getattr(row, self.column) for row in manager.all()]


class UserField(IdField):
    """A user id that must belong to someone holding `permission` (an account manager), or be null."""

    def __init__(self, permission: str, **kwargs):
        self.permission = permission
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        user = super().to_internal_value(data)
        if not user.has_perm(self.permission):
            raise serializers.ValidationError(f"{user} is not an account manager.")
        return user


# --- Accounts and contacts ---------------------------------------------------------------------------

class ContactSummarySerializer(ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "email", "role", "is_primary"]
        read_only_fields = fields


class AccountSerializer(StrictFieldsMixin, ModelSerializer):
    owner = UserField(
        "accounts.change_account", required=False, allow_null=True,
        help_text="User id of the account manager responsible for it. Default on create: you (an account "
        "manager); must be an account manager.",
    )
    email_domains = NamesField(
        "domain", required=False,
        help_text="Email domains of the account's people, e.g. example.com; each belongs to one account only. "
        "Sending the list replaces it.",
    )
    social_handles = NamesField(
        "handle", required=False,
        help_text="Social handles without the @; each belongs to one account only. Sending the list replaces it.",
    )
    components = IdField(
        many=True, required=False, queryset=Component.objects.all(),
        help_text="Ids of the components the account uses: an incident on these affects it.",
    )
    is_key = serializers.BooleanField(read_only=True, help_text="Strategic or enterprise tier.")
    contacts = ContactSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Account
        fields = [
            "id", "name", "tier", "arr", "currency", "renewal_date", "owner", "email_domains", "social_handles",
            "components", "notes", "is_key", "contacts", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data):
        return services.save_account(None, actor=_actor(self), **self._lists(validated_data), **validated_data)

    def update(self, instance, validated_data):
        return services.save_account(instance, actor=_actor(self), **self._lists(validated_data), **validated_data)

    @staticmethod
    def _lists(validated_data) -> dict:
        return {name: validated_data.pop(name, None) for name in ("email_domains", "social_handles", "components")}


class ContactSerializer(StrictFieldsMixin, ModelSerializer):
    account = IdField(
        queryset=Account.objects.all(), help_text="Set on create; a contact stays with its account."
    )

    class Meta:
        model = Contact
        fields = ["id", "account", "name", "email", "role", "is_primary"]
        validators = []  # one contact per account and email: save_contact says so, after normalising the email

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["account"].read_only = True
        return fields

    def create(self, validated_data):
        return services.save_contact(None, actor=_actor(self), **validated_data)

    def update(self, instance, validated_data):
        return services.save_contact(instance, actor=_actor(self), **validated_data)


class ContactUpdateSerializer(ContactSerializer):
    """A change to a contact (documentation of PUT and PATCH): it stays with its account."""

    account = IdField(read_only=True)


# --- Impacts -----------------------------------------------------------------------------------------

class AccountSummarySerializer(ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "tier", "arr", "currency", "owner"]
        read_only_fields = fields


class ScorePartSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    detail = serializers.CharField(help_text="The input, in words.")
    factor = serializers.FloatField(help_text="0 to 1.")
    weight = serializers.FloatField(help_text="Points when the factor is 1.")
    points = serializers.FloatField(help_text="factor × weight.")


class FollowUpSerializer(StrictFieldsMixin, ModelSerializer):
    impact = IdField(queryset=Impact.objects.all())
    owner = IdField(
        queryset=User.objects.filter(is_active=True), required=False,
        help_text="User id of the account manager who does it. Default: you.",
    )
    is_open = serializers.BooleanField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id", "impact", "kind", "summary", "owner", "due_at", "is_open", "is_overdue", "done_at", "outcome",
            "next_step", "reminded_at", "created_by", "created_at",
        ]
        read_only_fields = ["done_at", "outcome", "next_step", "reminded_at", "created_by", "created_at"]
        extra_kwargs = {"summary": {"allow_blank": True}}  # add_follow_up explains what to write

    def create(self, validated_data):
        impact = validated_data.pop("impact")
        return services.add_follow_up(impact, actor=_actor(self), **validated_data)


class CompleteFollowUpSerializer(StrictFieldsMixin, serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True, max_length=5000,
                                    help_text="What came of it, e.g. what the customer said.")
    next_step = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CompensationSerializer(StrictFieldsMixin, ModelSerializer):
    impact = IdField(queryset=Impact.objects.all())
    value = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True,
        help_text="What it is worth in `currency`: the amount, or a discount's share of one month's fee (valued "
                  "again when approved and when offered).",
    )
    value_display = serializers.CharField(read_only=True)
    needs_lead_approval = serializers.SerializerMethodField(
        help_text="The impact's compensation, this one included and declined or withdrawn ones left out, is worth "
                  "more than the approval limit: a communications lead who did not propose it approves."
    )
    allowed_states = serializers.SerializerMethodField(help_text="States it may move to next.")

    class Meta:
        model = Compensation
        fields = [
            "id", "impact", "kind", "amount", "percentage", "currency", "value", "value_display", "reason",
            "suggested_amount", "suggestion", "override_reason", "state", "allowed_states", "needs_lead_approval",
            "proposed_by", "approved_by", "approved_at", "state_changed_at", "created_at",
        ]
        read_only_fields = [
            "suggested_amount", "suggestion", "state", "proposed_by", "approved_by", "approved_at",
            "state_changed_at", "created_at",
        ]
        extra_kwargs = {
            "amount": {"help_text": "Give either an amount or (for a discount) a percentage."},
            "reason": {"allow_blank": True},  # propose_compensation explains what to write
        }

    def get_needs_lead_approval(self, compensation) -> bool:
        return rules.needs_lead_approval(compensation)

    def get_allowed_states(self, compensation) -> list[str]:
        return COMPENSATION_MACHINE.allowed_from(compensation.state)

    def create(self, validated_data):
        impact = validated_data.pop("impact")
        validated_data.setdefault("kind", Compensation._meta.get_field("kind").default)  # optional, as documented
        return services.propose_compensation(impact, actor=_actor(self), **validated_data)


class ImpactSerializer(StrictFieldsMixin, ModelSerializer):
    """An impact as listed: its account, its priority score and the parts that make it up."""

    account = AccountSummarySerializer(read_only=True)
    owner = UserField(
        "accounts.change_impact", required=False, allow_null=True,
        help_text="User id of the account manager who works it. Default: the account's owner.",
    )
    score = serializers.SerializerMethodField(help_text="Priority, 0–100 with the default weights; higher first.")
    score_parts = serializers.SerializerMethodField(help_text="The parts of the score, largest first.")
    allowed_states = serializers.SerializerMethodField(help_text="States it may move to next.")
    open_follow_ups = serializers.IntegerField(read_only=True)
    open_compensations = serializers.IntegerField(read_only=True, help_text="Proposed, approved or offered.")

    class Meta:
        model = Impact
        fields = [
            "id", "incident", "account", "level", "state", "allowed_states", "score", "score_parts",
            "downtime_minutes", "sla_breached", "affected_users", "affected_share", "source", "owner",
            "open_follow_ups", "open_compensations", "state_changed_at", "closed_at", "created_at", "updated_at",
        ]
        read_only_fields = ["incident", "state", "source", "state_changed_at", "closed_at", "created_at",
                            "updated_at"]

    def get_score(self, impact) -> float:
        return round(impact.score, 2)

    @extend_schema_field(ScorePartSerializer(many=True))
    def get_score_parts(self, impact) -> list[dict]:
        return [part.as_dict() for part in explain(impact)]

    def get_allowed_states(self, impact) -> list[str]:
        return IMPACT_MACHINE.allowed_from(impact.state)

    def update(self, instance, validated_data):
        return services.update_impact(instance, actor=_actor(self), **validated_data)


class ImpactDetailSerializer(ImpactSerializer):
    """An impact with its follow-ups and compensation, and what still keeps it from closing."""

    follow_ups = FollowUpSerializer(many=True, read_only=True)
    compensations = CompensationSerializer(many=True, read_only=True)
    close_blockers = serializers.SerializerMethodField(help_text="What must be settled before it can close.")

    class Meta(ImpactSerializer.Meta):
        fields = [*ImpactSerializer.Meta.fields, "close_blockers", "follow_ups", "compensations"]

    def get_close_blockers(self, impact) -> list[str]:
        return services.impact_close_blockers(impact)


class ImpactCreateSerializer(StrictFieldsMixin, ModelSerializer):
    """A newly identified affected account of the incident in the path."""

    account = IdField(queryset=Account.objects.all())
    owner = UserField(
        "accounts.change_impact", required=False, allow_null=True,
        help_text="User id of the account manager who works it. Default: the account's owner.",
    )

    class Meta:
        model = Impact
        fields = ["account", "level", "downtime_minutes", "sla_breached", "affected_users", "affected_share", "owner"]
        validators = []  # one impact per incident and account: create_impact answers with the account's name

    def create(self, validated_data):
        return services.create_impact(incident=self.context["incident"], actor=_actor(self), source="api",
                                      **validated_data)


class DerivedSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Affected accounts newly recorded.")


class ImpactMoveSerializer(StrictFieldsMixin, serializers.Serializer):
    state = serializers.ChoiceField(ImpactState.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                 help_text="Why; required to reopen a closed impact.")


class CompensationMoveSerializer(StrictFieldsMixin, serializers.Serializer):
    state = serializers.ChoiceField(CompensationState.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SlaCreditSerializer(serializers.Serializer):
    downtime_minutes = serializers.IntegerField(
        help_text="The impact's typed downtime; else the weighted minutes the account's components were down while "
        "the incident lasted (their status history); else, for an account with no components, the incident's length.")
    downtime_source = serializers.ChoiceField(choices=["typed", "status_history", "incident_duration"],
                                              help_text="Where downtime_minutes came from.")
    uptime_percent = serializers.DecimalField(max_digits=7, decimal_places=4, help_text="Over a 30-day month.")
    tier_below = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True,
                                          help_text="The SLA tier the uptime fell below; null when no credit is due.")
    credit_percent = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Of the monthly fee, capped.")
    cap_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    capped = serializers.BooleanField()
    monthly_fee = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="The suggested service credit.")
    summary = serializers.CharField(help_text="The calculation in one sentence.")


class DraftedMessageSerializer(serializers.Serializer):
    message = serializers.IntegerField(help_text="Id of the drafted message (see /api/v1/messages/{id}/).")
    url = serializers.CharField(help_text="Its page, to edit and submit it.")
