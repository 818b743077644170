"""The priority score: ordering and explanation on a constructed set of accounts, and weights that change it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Impact
from accounts.priority import explain, ranked
from sentiment.models import Mention
from tests.factories import AccountFactory, ImpactFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(title="Payments down")


@pytest.fixture
def constructed(incident):
    """Four accounts built so that each default part decides one place in the order."""
    today = timezone.localdate()
    big = ImpactFactory(incident=incident, level="critical", downtime_minutes=240, sla_breached=True,
                        account=AccountFactory(name="Big strategic", tier="strategic", arr=2_000_000))
    renewing = ImpactFactory(incident=incident, level="major", downtime_minutes=60,
                             account=AccountFactory(name="Renewing growth", tier="growth", arr=100_000,
                                                    renewal_date=today + timedelta(days=30)))
    loud = ImpactFactory(incident=incident, level="major", downtime_minutes=60,
                         account=AccountFactory(name="Loud growth", tier="growth", arr=100_000))
    for n in range(5):
        Mention.objects.create(source="api", external_id=f"loud-{n}", text="down again", label="negative",
                               posted_at=timezone.now(), account=loud.account, incident=incident)
    small = ImpactFactory(incident=incident, level="minor", downtime_minutes=10,
                          account=AccountFactory(name="Small self-serve", tier="self_serve", arr=1_000))
    return {"big": big, "renewing": renewing, "loud": loud, "small": small}


def names(impacts):
    return [impact.account.name for impact in impacts]


def test_impacts_are_ranked_by_revenue_tier_level_duration_sla_mentions_and_renewal(incident, constructed):
    order = names(ranked(Impact.objects.filter(incident=incident)).select_related("account"))

    assert order == ["Big strategic", "Loud growth", "Renewing growth", "Small self-serve"]


def test_the_top_impact_scores_the_full_points_of_each_part_it_maxes_out(incident, constructed):
    top = ranked(Impact.objects.filter(incident=incident)).select_related("account").first()
    parts = {part.name: part for part in explain(top)}

    assert parts["revenue"].points == 30  # 2M is past IMPACT_REVENUE_FULL
    assert parts["tier"].points == 15 and parts["impact"].points == 20 and parts["sla"].points == 10
    assert parts["duration"].points == 10 and parts["mentions"].points == 0 and parts["renewal"].points == 0
    assert top.score == pytest.approx(85)


def test_the_explanation_names_each_input_and_lists_the_largest_contribution_first(incident, constructed):
    loud = ranked(Impact.objects.filter(pk=constructed["loud"].pk)).select_related("account").get()
    parts = explain(loud)

    assert [part.points for part in parts] == sorted((part.points for part in parts), reverse=True)
    details = {part.name: part.detail for part in parts}
    assert details["mentions"] == "5 negative"
    assert details["revenue"] == "100,000 USD a year"
    assert details["tier"] == "Growth" and details["impact"] == "Major"
    assert sum(part.points for part in parts) == pytest.approx(loud.score)


def test_only_negative_mentions_of_this_incident_count(incident, constructed):
    other = IncidentFactory()
    account = constructed["small"].account
    Mention.objects.create(source="api", external_id="elsewhere", text="x", label="negative",
                           posted_at=timezone.now(), account=account, incident=other)
    Mention.objects.create(source="api", external_id="happy", text="x", label="positive",
                           posted_at=timezone.now(), account=account, incident=incident)

    small = ranked(Impact.objects.filter(pk=constructed["small"].pk)).get()

    assert small.negative_mentions == 0


def test_a_renewal_outside_the_window_or_in_the_past_earns_nothing(incident, settings):
    today = timezone.localdate()
    settings.IMPACT_RENEWAL_DAYS = 90
    inside = ImpactFactory(incident=incident, account=AccountFactory(renewal_date=today + timedelta(days=90)))
    outside = ImpactFactory(incident=incident, account=AccountFactory(renewal_date=today + timedelta(days=91)))
    past = ImpactFactory(incident=incident, account=AccountFactory(renewal_date=today - timedelta(days=1)))

    factors = dict(ranked(Impact.objects.filter(incident=incident)).values_list("pk", "factor_renewal"))

    assert factors == {inside.pk: 1.0, outside.pk: 0.0, past.pk: 0.0}


def test_weights_change_the_order_as_documented(incident, constructed, settings):
    """With mentions weighted at zero and renewal heavily, the renewing account overtakes the loud one."""
    settings.IMPACT_SCORE_WEIGHTS = {"revenue": 30, "tier": 15, "impact": 20, "duration": 10, "sla": 10,
                                     "mentions": 0, "renewal": 20}

    order = names(ranked(Impact.objects.filter(incident=incident)).select_related("account"))

    assert order == ["Big strategic", "Renewing growth", "Loud growth", "Small self-serve"]


def test_revenue_alone_can_decide_when_every_other_weight_is_zero(incident, constructed, settings):
    settings.IMPACT_SCORE_WEIGHTS = {"revenue": 1}

    order = names(ranked(Impact.objects.filter(incident=incident)).select_related("account"))

    assert order[0] == "Big strategic" and order[-1] == "Small self-serve"
    assert {part.name: part.weight for part in explain(
        ranked(Impact.objects.filter(pk=constructed["big"].pk)).select_related("account").get())}["tier"] == 0
