from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.choices import (
    COUNTED_COMPENSATION_STATES,
    KEY_TIERS,
    OPEN_COMPENSATION_STATES,
    OPEN_IMPACT_STATES,
    AccountEventKind,
    CompensationKind,
    CompensationState,
    FollowUpKind,
    ImpactLevel,
    ImpactSource,
    ImpactState,
    Tier,
)
from core.db import BoundedTextField

MONEY = {"max_digits": 14, "decimal_places": 2}


class Account(models.Model):
    """A customer. Email domains and social handles are how mentions and contacts are tied to it."""

    name = models.CharField(max_length=200, unique=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.GROWTH)
    arr = models.DecimalField(
        "annual recurring revenue", **MONEY, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code, e.g. USD, EUR.")
    renewal_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_accounts",
        help_text="The account manager responsible for it.",
    )
    components = models.ManyToManyField(
        "incidents.Component", blank=True, related_name="accounts",
        help_text="What the account uses: an incident on these components affects it.",
    )
    notes = BoundedTextField(max_length=20_000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("import_accounts", "Can import customer accounts from CSV")]
        indexes = [models.Index(fields=["owner", "tier"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("account-detail", args=[self.pk])

    @property
    def is_key(self) -> bool:
        return self.tier in KEY_TIERS

    @property
    def monthly_fee(self) -> Decimal:
        return (Decimal(self.arr) / 12).quantize(Decimal("0.01"))


class EmailDomain(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="email_domains")
    domain = models.CharField(max_length=253, unique=True, help_text="Lower case, e.g. example.com.")

    class Meta:
        ordering = ["domain"]

    def __str__(self):
        return self.domain


class SocialHandle(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="social_handles")
    handle = models.CharField(max_length=100, unique=True, help_text="Lower case, without the @.")

    class Meta:
        ordering = ["handle"]

    def __str__(self):
        return f"@{self.handle}"


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    role = models.CharField(max_length=100, blank=True, help_text="Their job, e.g. CTO, head of support.")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "email"], name="one_contact_per_account_email")]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class ImpactQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state__in=OPEN_IMPACT_STATES)


class Impact(models.Model):
    """How one incident hit one account, and the work with that customer until it is closed."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="impacts")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="impacts")
    level = models.CharField(max_length=8, choices=ImpactLevel.choices, default=ImpactLevel.MAJOR)
    affected_users = models.PositiveIntegerField(null=True, blank=True)
    affected_share = models.DecimalField(
        "share of users affected (%)", max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    downtime_minutes = models.PositiveIntegerField(default=0, help_text="How long the account could not work.")
    sla_breached = models.BooleanField(default=False)
    source = models.CharField(max_length=12, choices=ImpactSource.choices, default=ImpactSource.MANUAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_impacts",
        help_text="Defaults to the account's owner.",
    )
    state = models.CharField(max_length=12, choices=ImpactState.choices, default=ImpactState.IDENTIFIED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImpactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["incident", "account"], name="one_impact_per_incident_account")]
        indexes = [models.Index(fields=["owner", "state"]), models.Index(fields=["incident", "state"])]

    def __str__(self):
        return f"{self.account} in {self.incident}"

    def get_absolute_url(self):
        return reverse("impact-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_IMPACT_STATES


class FollowUp(models.Model):
    impact = models.ForeignKey(Impact, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(max_length=8, choices=FollowUpKind.choices, default=FollowUpKind.CALL)
    summary = models.CharField(max_length=200, help_text="What to do, e.g. call the CTO about the credit.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = BoundedTextField(max_length=5000, blank=True)
    next_step = models.CharField(max_length=200, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the owner was last reminded.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [models.F("done_at").asc(nulls_first=True), "due_at", "id"]  # open ones first
        indexes = [models.Index(fields=["done_at", "due_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at <= timezone.now()


class CompensationQuerySet(models.QuerySet):
    def counted(self):
        """What is added up against the approval limit: all but declined and withdrawn compensation."""
        return self.filter(state__in=COUNTED_COMPENSATION_STATES)

    def with_approval_total(self):
        """Annotated with what the rest of the impact's counted compensation is worth, so that approval_total()
        takes no query per row."""
        others = (Compensation.objects.counted().filter(impact=OuterRef("impact")).exclude(pk=OuterRef("pk"))
                  .order_by().values("impact").annotate(total=Sum("value")).values("total"))
        money = models.DecimalField(**MONEY)
        return self.annotate(others_counted=Coalesce(Subquery(others, output_field=money), Value(Decimal(0)),
                                                     output_field=money))


class Compensation(models.Model):
    impact = models.ForeignKey(Impact, on_delete=models.CASCADE, related_name="compensations")
    kind = models.CharField(max_length=16, choices=CompensationKind.choices, default=CompensationKind.SERVICE_CREDIT)
    amount = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal(0))])
    percentage = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal(0))],
        help_text="For a discount: percent off the monthly fee.",
    )
    currency = models.CharField(max_length=3, blank=True, help_text="Defaults to the account's currency.")
    reason = BoundedTextField(max_length=5000)
    value = models.DecimalField(
        **MONEY, default=Decimal(0), editable=False,
        help_text="What it is worth in the currency: the amount, or a discount's percentage of one month's fee, "
                  "computed when proposed and again when approved and when offered. The approval limit is "
                  "compared with the sum of these over the impact.",
    )
    suggested_amount = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    suggestion = models.JSONField(default=dict, blank=True, editable=False,
                                  help_text="The SLA calculator's inputs and result when it was proposed.")
    override_reason = models.CharField(max_length=300, blank=True,
                                       help_text="Why the amount differs from the SLA calculator's suggestion.")
    state = models.CharField(max_length=12, choices=CompensationState.choices, default=CompensationState.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompensationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("approve_compensation", "Can approve compensation above the approval limit")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value_display}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_COMPENSATION_STATES

    def worth(self) -> Decimal:
        """The amount, or a discount's percentage of the account's monthly fee now (stored as value when proposed,
        approved and offered)."""
        if self.amount is not None:
            return self.amount
        if self.percentage is not None:
            return (self.impact.account.monthly_fee * Decimal(self.percentage) / 100).quantize(Decimal("0.01"))
        return Decimal(0)

    def approval_total(self) -> Decimal:
        """What the approval limit is compared with: this compensation's value plus the values of the impact's
        other compensation that is not declined or withdrawn."""
        others = getattr(self, "others_counted", None)  # annotated by CompensationQuerySet.with_approval_total()
        if others is None:
            others = (Compensation.objects.counted().filter(impact_id=self.impact_id).exclude(pk=self.pk)
                      .aggregate(total=Sum("value"))["total"]) or Decimal(0)
        return self.value + others

    @property
    def value_display(self) -> str:
        if self.amount is not None:
            return f"{self.amount:,.2f} {self.currency}"
        if self.percentage is not None:
            return f"{Decimal(self.percentage).normalize():f}% of the monthly fee"
        return ""


class AccountEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Account timeline entries are append-only and cannot be updated.")


class AccountEvent(models.Model):
    """One line of an account's timeline. Append-only, like the incident timeline."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    impact = models.ForeignKey(Impact, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=AccountEventKind.choices)
    description = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    objects = AccountEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "-at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.description}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Account timeline entries are append-only and cannot be changed.")
        super().save(*args, **kwargs)
