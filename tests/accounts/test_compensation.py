"""Compensation: proposing it, who approves it above and below the limit, every move of its state machine,
and the SLA credit calculator that suggests service credits."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services
from accounts.choices import COMPENSATION_MACHINE, CompensationState
from accounts.models import AccountEvent, Compensation, Impact
from accounts.sla import suggest_credit, suggest_for
from core.roles import ACCOUNT_MANAGER, COMMS_LEAD
from core.statemachine import TransitionNotAllowed
from incidents.models import TimelineEntry
from tests.factories import AccountFactory, ImpactFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPECTED_MOVES = {
    (CompensationState.PROPOSED, CompensationState.APPROVED),
    (CompensationState.PROPOSED, CompensationState.WITHDRAWN),
    (CompensationState.APPROVED, CompensationState.OFFERED),
    (CompensationState.APPROVED, CompensationState.WITHDRAWN),
    (CompensationState.OFFERED, CompensationState.ACCEPTED),
    (CompensationState.OFFERED, CompensationState.DECLINED),
    (CompensationState.OFFERED, CompensationState.WITHDRAWN),
    (CompensationState.ACCEPTED, CompensationState.APPLIED),
}
ALL_PAIRS = [(a, b) for a in CompensationState for b in CompensationState]
ALLOWED = [(a, b) for a, b in ALL_PAIRS if COMPENSATION_MACHINE.can(a, b)]
REFUSED = [(a, b) for a, b in ALL_PAIRS if not COMPENSATION_MACHINE.can(a, b)]
ABOVE_LIMIT = "Compensation worth more than 500 USD is approved by a communications lead."
OWN_PROPOSAL = "The person who proposed this compensation cannot approve it; ask another lead."


@pytest.fixture
def acme(manager):
    return AccountFactory(name="Acme", owner=manager, arr=120_000)  # a monthly fee of 10,000.00


@pytest.fixture
def impact(acme):
    return ImpactFactory(account=acme, incident=IncidentFactory(title="Checkout down"), state="compensation")


@pytest.fixture
def other_lead(db):
    return UserFactory(username="other-lead", role=COMMS_LEAD)


def propose(impact, actor, amount="600.00", kind="gift", **fields):
    fields.setdefault("reason", "three hours down during their launch")
    return services.propose_compensation(
        impact, actor=actor, kind=kind, amount=Decimal(amount) if amount is not None else None, **fields
    )


def approve(compensation, actor):
    return services.move_compensation(compensation, CompensationState.APPROVED, actor=actor)


def state_of(compensation):
    compensation.refresh_from_db()
    return compensation.state


# --- Approval above the limit ----------------------------------------------------------------------------


def test_the_owning_account_manager_cannot_approve_compensation_above_the_limit(manager, impact):
    compensation = propose(impact, manager, "500.01")
    with pytest.raises(PermissionDenied) as refusal:
        approve(compensation, manager)
    assert str(refusal.value) == ABOVE_LIMIT
    assert state_of(compensation) == CompensationState.PROPOSED


def test_support_cannot_approve_compensation_above_the_limit(manager, support, impact):
    compensation = propose(impact, manager)
    with pytest.raises(PermissionDenied, match=f"^{ABOVE_LIMIT}$"):
        approve(compensation, support)
    assert state_of(compensation) == CompensationState.PROPOSED


def test_a_lead_approves_compensation_above_the_limit_and_is_recorded_as_approver(manager, lead, impact):
    compensation = propose(impact, manager)

    approve(compensation, lead)

    compensation.refresh_from_db()
    assert (compensation.state, compensation.approved_by) == (CompensationState.APPROVED, lead)
    assert compensation.approved_at == compensation.state_changed_at
    event = AccountEvent.objects.filter(kind="compensation").first()  # newest first
    assert (event.description, event.actor, event.data["state"]) == ("Gift 600.00 USD approved", lead, "approved")
    assert TimelineEntry.objects.filter(kind="account").last().description == "Acme: Gift 600.00 USD approved"


def test_a_lead_who_proposed_cannot_approve_their_own_but_another_lead_can(impact, other_lead):
    both = UserFactory(username="lead-and-manager", role=COMMS_LEAD)
    both.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    impact.account.owner = both
    impact.account.save()
    compensation = propose(impact, both)

    with pytest.raises(PermissionDenied, match=f"^{OWN_PROPOSAL}$"):
        approve(compensation, both)
    assert state_of(compensation) == CompensationState.PROPOSED

    approve(compensation, other_lead)
    compensation.refresh_from_db()
    assert (compensation.state, compensation.approved_by) == (CompensationState.APPROVED, other_lead)


def test_an_admin_who_proposed_is_refused_as_proposer_too(admin_user, other_lead, impact):
    compensation = propose(impact, admin_user, "5000.00")
    with pytest.raises(PermissionDenied, match=f"^{OWN_PROPOSAL}$"):
        approve(compensation, admin_user)
    approve(compensation, other_lead)
    assert state_of(compensation) == CompensationState.APPROVED


def test_a_lead_approves_but_does_not_offer_the_compensation(manager, lead, impact):
    compensation = propose(impact, manager)
    approve(compensation, lead)
    with pytest.raises(PermissionDenied):
        services.move_compensation(compensation, CompensationState.OFFERED, actor=lead)
    services.move_compensation(compensation, CompensationState.OFFERED, actor=manager, note="sent to the CTO")
    assert state_of(compensation) == CompensationState.OFFERED
    assert AccountEvent.objects.first().description == "Gift 600.00 USD offered: sent to the CTO"


# --- Approval at or below the limit ----------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["500.00", "499.99", "0.00"])
def test_at_or_below_the_limit_the_owning_manager_approves_their_own_proposal(manager, impact, amount):
    compensation = propose(impact, manager, amount)
    approve(compensation, manager)
    compensation.refresh_from_db()
    assert (compensation.state, compensation.approved_by) == (CompensationState.APPROVED, manager)


def test_at_or_below_the_limit_another_account_manager_may_not_approve(manager, impact):
    compensation = propose(impact, manager, "100.00")
    stranger = UserFactory(username="other-manager", role=ACCOUNT_MANAGER)
    with pytest.raises(PermissionDenied, match="Only the owner of Acme"):
        approve(compensation, stranger)
    assert state_of(compensation) == CompensationState.PROPOSED


def test_at_or_below_the_limit_a_lead_may_approve_too(manager, lead, impact):
    compensation = propose(impact, manager, "100.00")
    approve(compensation, lead)
    assert state_of(compensation) == CompensationState.APPROVED


def test_the_approval_limit_is_a_setting(settings, manager, impact):
    settings.COMPENSATION_APPROVAL_LIMIT = 50
    compensation = propose(impact, manager, "100.00")
    with pytest.raises(PermissionDenied, match="^Compensation worth more than 50 USD is approved by a "):
        approve(compensation, manager)


# --- The limit adds up per impact -----------------------------------------------------------------------


def test_six_gifts_of_500_the_owner_approves_the_first_and_a_lead_each_of_the_others(manager, lead, impact):
    first = propose(impact, manager, "500.00")
    approve(first, manager)

    for number in range(2, 7):
        gift = propose(impact, manager, "500.00")
        with pytest.raises(PermissionDenied) as refusal:
            approve(gift, manager)
        assert str(refusal.value) == (
            f"{ABOVE_LIMIT} With this one, Acme's compensation for this incident comes to {500 * number:,}.00 USD."
        )
        assert state_of(gift) == CompensationState.PROPOSED
        approve(gift, lead)
        assert state_of(gift) == CompensationState.APPROVED


def test_compensation_still_proposed_counts_towards_the_sum(manager, lead, impact):
    first = propose(impact, manager, "300.00")
    propose(impact, manager, "300.00")

    with pytest.raises(PermissionDenied, match="comes to 600.00 USD"):
        approve(first, manager)
    approve(first, lead)
    assert state_of(first) == CompensationState.APPROVED


def test_withdrawn_and_declined_compensation_is_left_out_of_the_sum_and_the_rest_counts(manager, impact):
    kept = propose(impact, manager, "300.00")
    approve(kept, manager)
    withdrawn = propose(impact, manager, "100.00")
    services.move_compensation(withdrawn, CompensationState.WITHDRAWN, actor=manager)
    declined = propose(impact, manager, "100.00")
    approve(declined, manager)
    services.move_compensation(declined, CompensationState.OFFERED, actor=manager)
    services.move_compensation(declined, CompensationState.DECLINED, actor=manager)

    up_to_the_limit = propose(impact, manager, "200.00")
    approve(up_to_the_limit, manager)  # 300 + 200: the withdrawn and declined 100s are not counted
    one_cent_over = propose(impact, manager, "0.01")
    with pytest.raises(PermissionDenied, match="comes to 500.01 USD"):
        approve(one_cent_over, manager)


def test_a_lead_who_proposed_cannot_approve_what_the_sum_puts_above_the_limit(impact, other_lead):
    both = UserFactory(username="lead-and-manager", role=COMMS_LEAD)
    both.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    impact.account.owner = both
    impact.account.save()
    approve(propose(impact, both, "500.00"), both)
    second = propose(impact, both, "500.00")

    with pytest.raises(PermissionDenied, match=f"^{OWN_PROPOSAL}$"):
        approve(second, both)
    approve(second, other_lead)
    assert state_of(second) == CompensationState.APPROVED


# --- The value again when approved and when offered ------------------------------------------------------


def set_revenue(account, arr, actor):
    services.save_account(account, actor=actor, arr=Decimal(arr))


def test_lowering_the_revenue_to_self_approve_a_discount_is_refused_at_offer_and_needs_a_lead_again(
    manager, lead, impact
):
    set_revenue(impact.account, 0, manager)
    discount = propose(impact, manager, None, kind="discount", percentage=Decimal("100"))
    approve(discount, manager)  # worth 0.00 while the revenue is 0: the owner approves it
    set_revenue(impact.account, 120_000, manager)

    with pytest.raises(TransitionNotAllowed) as refusal:
        services.move_compensation(discount, CompensationState.OFFERED, actor=manager)

    assert str(refusal.value) == (
        "Discount 100% of the monthly fee was not offered: it is now worth 10,000.00 USD, was 0.00 USD when "
        f"approved. {ABOVE_LIMIT} It is back to proposed until a lead approves it."
    )
    discount.refresh_from_db()
    assert (discount.state, discount.value, discount.approved_by, discount.approved_at) == (
        CompensationState.PROPOSED,
        Decimal("10000.00"),
        None,
        None,
    )
    event = AccountEvent.objects.first()
    assert (event.description, event.actor, event.data["state"]) == (
        "Discount 100% of the monthly fee back to proposed instead of offered: now worth 10,000.00 USD, was 0.00 "
        "USD when approved, above the approval limit",
        manager,
        "proposed",
    )
    assert TimelineEntry.objects.last().description == f"Acme: {event.description}"

    with pytest.raises(PermissionDenied, match=f"^{ABOVE_LIMIT}$"):
        approve(discount, manager)
    approve(discount, lead)
    services.move_compensation(discount, CompensationState.OFFERED, actor=manager)
    assert state_of(discount) == CompensationState.OFFERED


def test_an_offer_whose_value_rose_within_the_limit_goes_ahead_at_the_new_value(manager, impact):
    discount = propose(impact, manager, None, kind="discount", percentage=Decimal("2"))  # 2 % of 10,000.00
    approve(discount, manager)
    set_revenue(impact.account, 240_000, manager)

    services.move_compensation(discount, CompensationState.OFFERED, actor=manager)

    discount.refresh_from_db()
    assert (discount.state, discount.value) == (CompensationState.OFFERED, Decimal("400.00"))
    assert AccountEvent.objects.filter(kind="compensation").first().description == (
        "Discount 2% of the monthly fee offered (now worth 400.00 USD, was 200.00 USD)"
    )


def test_an_offer_whose_value_rose_only_with_the_rest_of_the_impacts_compensation_needs_a_lead(manager, impact):
    approve(propose(impact, manager, "300.00"), manager)
    discount = propose(impact, manager, None, kind="discount", percentage=Decimal("1"))  # 100.00: 400 in all
    approve(discount, manager)
    set_revenue(impact.account, 360_000, manager)  # 1 % of 30,000.00

    with pytest.raises(TransitionNotAllowed, match="comes to 600.00 USD"):
        services.move_compensation(discount, CompensationState.OFFERED, actor=manager)

    assert state_of(discount) == CompensationState.PROPOSED


def test_an_offer_whose_value_fell_goes_ahead_at_the_lower_value(manager, lead, impact):
    discount = propose(impact, manager, None, kind="discount", percentage=Decimal("10"))  # 1,000.00
    approve(discount, lead)
    set_revenue(impact.account, 60_000, manager)

    services.move_compensation(discount, CompensationState.OFFERED, actor=manager)

    discount.refresh_from_db()
    assert (discount.state, discount.value, discount.approved_by) == (
        CompensationState.OFFERED,
        Decimal("500.00"),
        lead,
    )


def test_approval_values_a_discount_from_the_monthly_fee_now(manager, lead, impact):
    discount = propose(impact, manager, None, kind="discount", percentage=Decimal("5"))  # 500.00 when proposed
    set_revenue(impact.account, 240_000, manager)

    with pytest.raises(PermissionDenied, match=f"^{ABOVE_LIMIT}$"):
        approve(discount, manager)
    assert state_of(discount) == CompensationState.PROPOSED

    approve(discount, lead)
    discount.refresh_from_db()
    assert (discount.state, discount.value) == (CompensationState.APPROVED, Decimal("1000.00"))


# --- What a discount is worth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arr", "percentage", "value"),
    [
        (120_000, "5", "500.00"),  # 5 % of 10,000.00
        (120_000, "5.01", "501.00"),
        (100_000, "7.5", "625.00"),  # 7.5 % of 8,333.33 = 624.99975
        (100_000, "100", "8333.33"),
    ],
)
def test_a_discount_is_worth_its_percentage_of_the_monthly_fee(manager, arr, percentage, value):
    impact = ImpactFactory(account=AccountFactory(owner=manager, arr=arr))
    compensation = propose(impact, manager, None, kind="discount", percentage=Decimal(percentage))
    compensation.refresh_from_db()
    assert compensation.value == Decimal(value)


def test_a_discount_at_the_limit_is_approved_by_its_owner_and_one_cent_over_needs_a_lead(manager, lead, impact):
    at_limit = propose(impact, manager, None, kind="discount", percentage=Decimal("5"))
    another_incident = ImpactFactory(account=impact.account, state="compensation")  # the limit adds up per impact
    over = propose(another_incident, manager, None, kind="discount", percentage=Decimal("5.01"))

    approve(at_limit, manager)
    with pytest.raises(PermissionDenied, match=f"^{ABOVE_LIMIT}$"):
        approve(over, manager)
    approve(over, lead)

    assert (state_of(at_limit), state_of(over)) == (CompensationState.APPROVED, CompensationState.APPROVED)


def test_a_discount_shows_its_percentage_without_trailing_zeros(manager, impact):
    compensation = propose(impact, manager, None, kind="discount", percentage=Decimal("5"))
    compensation.refresh_from_db()
    assert compensation.value_display == "5% of the monthly fee"


# --- Every move, walked as data --------------------------------------------------------------------------


def test_the_declared_compensation_moves_are_exactly_the_expected_ones():
    assert set(ALLOWED) == EXPECTED_MOVES


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_an_allowed_compensation_move_changes_the_state_and_is_recorded(manager, impact, source, target):
    compensation = Compensation.objects.create(
        impact=impact,
        kind="gift",
        amount=Decimal("100.00"),
        value=Decimal("100.00"),
        currency="USD",
        reason="downtime",
        proposed_by=manager,
        state=source,
    )

    services.move_compensation(compensation, target, actor=manager, note="done")

    compensation.refresh_from_db()
    assert compensation.state == target
    assert (compensation.approved_by is not None) == (target == CompensationState.APPROVED)
    description = f"Gift 100.00 USD {CompensationState(target).label.lower()}: done"
    event = AccountEvent.objects.get()
    assert (event.kind, event.description, event.data["state"], event.data["compensation_id"]) == (
        "compensation",
        description,
        target,
        compensation.pk,
    )
    assert TimelineEntry.objects.get().description == f"Acme: {description}"


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_a_refused_compensation_move_changes_nothing_and_says_why(manager, impact, source, target):
    compensation = Compensation.objects.create(
        impact=impact,
        kind="gift",
        amount=Decimal("100.00"),
        currency="USD",
        reason="downtime",
        proposed_by=manager,
        state=source,
    )

    with pytest.raises(TransitionNotAllowed) as refusal:
        services.move_compensation(compensation, target, actor=manager)

    assert state_of(compensation) == source
    assert not AccountEvent.objects.exists()
    message = str(refusal.value)
    if source == target:
        assert message == f"The compensation is already {CompensationState(source).label.lower()}."
    elif not COMPENSATION_MACHINE.allowed_from(source):
        assert message == f"A {CompensationState(source).label.lower()} compensation cannot change state any more."
    else:
        assert message.startswith(
            f"A compensation cannot move from {CompensationState(source).label.lower()} to "
            f"{CompensationState(target).label.lower()}; "
            f"from {CompensationState(source).label.lower()} it can move to: "
        )
        assert message.endswith(".")


# --- Proposing -------------------------------------------------------------------------------------------


def test_a_proposal_is_recorded_on_both_timelines(manager, impact):
    compensation = propose(impact, manager, currency="usd")

    assert (compensation.state, compensation.proposed_by, compensation.currency) == (
        CompensationState.PROPOSED,
        manager,
        "USD",
    )
    assert AccountEvent.objects.get().description == "Gift 600.00 USD proposed: three hours down during their launch"
    assert TimelineEntry.objects.get().description == (
        "Acme: Gift 600.00 USD proposed: three hours down during their launch"
    )


def test_compensation_in_another_currency_than_the_accounts_is_refused(manager, impact):
    """Otherwise 499 of a stronger currency would pass under the approval limit as if it were 499 USD."""
    with pytest.raises(ValidationError) as refusal:
        propose(impact, manager, amount=Decimal("499"), currency="KWD")

    assert "in the account's currency, USD" in refusal.value.message_dict["currency"][0]
    assert not Compensation.objects.exists()


def test_the_currency_defaults_to_the_accounts(manager):
    impact = ImpactFactory(account=AccountFactory(owner=manager, currency="GBP"))
    assert propose(impact, manager).currency == "GBP"


@pytest.mark.parametrize(("amount", "percentage"), [(None, None), ("10.00", "5")])
def test_a_proposal_gives_either_an_amount_or_a_percentage(manager, impact, amount, percentage):
    with pytest.raises(ValidationError) as refusal:
        propose(
            impact, manager, amount, kind="discount", percentage=Decimal(percentage) if percentage is not None else None
        )
    assert refusal.value.message_dict == {"amount": ["Give either an amount or a percentage, not both."]}
    assert not Compensation.objects.exists()


@pytest.mark.parametrize(("kind", "percentage"), [("gift", "5"), ("service_credit", "5"), ("discount", "100.01")])
def test_a_percentage_is_only_for_a_discount_of_at_most_100(manager, impact, kind, percentage):
    with pytest.raises(ValidationError) as refusal:
        propose(impact, manager, None, kind=kind, percentage=Decimal(percentage))
    assert refusal.value.message_dict == {"percentage": ["A percentage is for a discount, between 0 and 100."]}
    assert not Compensation.objects.exists()


def test_a_discount_of_exactly_100_percent_is_accepted(manager, impact):
    compensation = propose(impact, manager, None, kind="discount", percentage=Decimal("100"))
    assert compensation.value == Decimal("10000.00")


@pytest.mark.parametrize(("kind", "amount", "percentage"), [("discount", None, "-5"), ("gift", "-100.00", None)])
def test_a_negative_compensation_is_refused(manager, impact, kind, amount, percentage):
    with pytest.raises(ValidationError):
        propose(impact, manager, amount, kind=kind, percentage=Decimal(percentage) if percentage is not None else None)
    assert not Compensation.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_proposal_needs_a_reason(manager, impact, reason):
    with pytest.raises(ValidationError) as refusal:
        propose(impact, manager, reason=reason)
    assert refusal.value.message_dict == {
        "reason": ["Say why it is offered, e.g. 3 hours of downtime during their launch."]
    }


def test_every_problem_with_a_proposal_is_reported_at_once(manager, impact):
    with pytest.raises(ValidationError) as refusal:
        propose(impact, manager, "10.00", kind="discount", percentage=Decimal("5"), reason="")
    assert set(refusal.value.message_dict) == {"reason", "amount"}


@pytest.mark.parametrize("who", ["lead", "support"])
def test_only_whoever_works_the_impact_may_propose(request, impact, who):
    with pytest.raises(PermissionDenied):
        propose(impact, request.getfixturevalue(who))
    assert not Compensation.objects.exists()


def test_a_service_credit_stores_the_sla_suggestion(manager, impact):
    impact.downtime_minutes = 44  # 10 % of 10,000.00
    impact.save()

    credit = propose(impact, manager, "1000.00", kind="service_credit")

    credit.refresh_from_db()
    assert credit.suggested_amount == Decimal("1000.00")
    assert credit.override_reason == ""
    suggestion = credit.suggestion
    assert (suggestion["downtime_minutes"], suggestion["uptime_percent"], suggestion["tier_below"]) == (
        44,
        "99.8981",
        "99.9",
    )
    assert (suggestion["amount"], suggestion["monthly_fee"], suggestion["currency"]) == ("1000.00", "10000.00", "USD")
    assert suggestion["summary"].startswith("44 minutes down is 99.8981% uptime, below 99.9%: ")


def test_a_service_credit_that_differs_from_the_suggestion_needs_an_override_reason(manager, impact):
    impact.downtime_minutes = 44
    impact.save()

    with pytest.raises(ValidationError) as refusal:
        propose(impact, manager, "1500.00", kind="service_credit", override_reason="  ")
    assert refusal.value.message_dict == {
        "override_reason": ["The SLA calculator suggests 1,000.00 USD; say why this credit differs."]
    }

    credit = propose(impact, manager, "1500.00", kind="service_credit", override_reason="their launch day")
    assert (credit.amount, credit.suggested_amount, credit.override_reason) == (
        Decimal("1500.00"),
        Decimal("1000.00"),
        "their launch day",
    )


def test_other_kinds_store_no_suggestion(manager, impact):
    gift = propose(impact, manager, "80.00", kind="gift")
    gift.refresh_from_db()
    assert (gift.suggested_amount, gift.suggestion) == (None, {})


# --- The SLA credit calculator ---------------------------------------------------------------------------

FEE = Decimal("1000.00")


@pytest.mark.parametrize(
    ("minutes", "uptime", "tier_below", "percent", "amount"),
    [
        (0, "100.0000", None, "0", "0.00"),
        (43, "99.9005", None, "0", "0.00"),
        (44, "99.8981", "99.9", "10", "100.00"),
        (432, "99.0000", "99.9", "10", "100.00"),  # exactly 99.0 is not below 99.0
        (433, "98.9977", "99.0", "25", "250.00"),
        (2160, "95.0000", "99.0", "25", "250.00"),  # exactly 95.0 is not below 95.0
        (2161, "94.9977", "95.0", "100", "1000.00"),
    ],
)
def test_the_credit_at_each_tier_boundary(minutes, uptime, tier_below, percent, amount):
    suggestion = suggest_credit(FEE, minutes, "USD")
    assert suggestion.uptime_percent == Decimal(uptime)
    assert suggestion.tier_below == (Decimal(tier_below) if tier_below else None)
    assert suggestion.credit_percent == Decimal(percent)
    assert suggestion.amount == Decimal(amount)
    assert suggestion.capped is False


def test_the_cap_limits_the_credit_and_says_so(settings):
    settings.SLA_CREDIT_CAP_PERCENT = 50
    capped = suggest_credit(FEE, 2161, "USD")
    assert (capped.credit_percent, capped.cap_percent, capped.capped, capped.amount) == (
        Decimal(50),
        Decimal(50),
        True,
        Decimal("500.00"),
    )
    under = suggest_credit(FEE, 433, "USD")
    assert (under.credit_percent, under.capped, under.amount) == (Decimal(25), False, Decimal("250.00"))


@pytest.mark.parametrize(("minutes", "percent"), [(216, "0"), (217, "5"), (864, "5"), (865, "50")])
def test_a_custom_tier_table_is_respected(settings, minutes, percent):
    settings.SLA_CREDIT_TIERS = [(99.5, 5.0), (98.0, 50.0)]  # 216 min is exactly 99.5 %, 864 min exactly 98.0 %
    assert suggest_credit(FEE, minutes).credit_percent == Decimal(percent)


@pytest.mark.parametrize(
    ("fee", "minutes", "amount"),
    [
        ("1234.55", 44, "123.46"),  # 123.455 rounds half up
        ("1234.54", 44, "123.45"),  # 123.454 rounds down
        ("333.33", 433, "83.33"),  # 83.3325
    ],
)
def test_amounts_are_rounded_to_cents(fee, minutes, amount):
    result = suggest_credit(Decimal(fee), minutes).amount
    assert result == Decimal(amount)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(("minutes", "counted"), [(-10, 0), (50_000, 43_200)])  # a 30-day month is 43,200 min
def test_downtime_is_kept_within_the_month(minutes, counted):
    suggestion = suggest_credit(FEE, minutes)
    assert suggestion.downtime_minutes == counted


def test_the_summary_says_when_no_credit_is_due():
    assert suggest_credit(FEE, 43, "USD").summary == (
        "43 minutes down is 99.9005% uptime for the month: no SLA credit is due under the tier table."
    )


def test_the_summary_shows_the_tier_and_credit_without_trailing_zeros():
    assert suggest_credit(FEE, 433, "USD").summary == (
        "433 minutes down is 98.9977% uptime, below 99%: 25% of the monthly fee of 1,000.00 USD = 250.00 USD."
    )


def test_suggest_for_uses_the_impacts_own_downtime(manager):
    impact = ImpactFactory(account=AccountFactory(owner=manager, arr=120_000, currency="EUR"), downtime_minutes=433)
    suggestion = suggest_for(Impact.objects.get(pk=impact.pk))
    assert (suggestion.downtime_minutes, suggestion.amount, suggestion.currency) == (433, Decimal("2500.00"), "EUR")


def test_suggest_for_uses_the_incident_duration_when_the_impact_has_no_downtime(manager):
    started = timezone.now() - timedelta(days=1)
    incident = IncidentFactory(
        started_at=started, resolved_at=started + timedelta(minutes=433, seconds=30), status="resolved"
    )
    impact = ImpactFactory(incident=incident, account=AccountFactory(owner=manager, arr=120_000), downtime_minutes=0)

    suggestion = suggest_for(Impact.objects.get(pk=impact.pk))

    assert (suggestion.downtime_minutes, suggestion.credit_percent, suggestion.amount) == (
        433,
        Decimal(25),
        Decimal("2500.00"),
    )
