"""The SLA calculator takes an account's downtime from the status history of the components it uses, unless a
number was typed on the impact."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.sla import DowntimeSource, downtime_with_source, suggest_for
from incidents.models import ComponentStatusChange
from tests.factories import AccountFactory, ComponentFactory, ImpactFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def start():
    return timezone.now() - timedelta(days=3)


def outage(component, start, minutes, status="major_outage"):
    ComponentStatusChange.objects.create(component=component, from_status="operational", to_status=status, at=start,
                                         cause="direct_edit")
    ComponentStatusChange.objects.create(component=component, from_status=status, to_status="operational",
                                         at=start + timedelta(minutes=minutes), cause="direct_edit")


def impact_on(components, start, *, used=None, hours=4, **fields):
    incident = IncidentFactory(started_at=start, resolved_at=start + timedelta(hours=hours), status="resolved")
    incident.components.set(components)
    account = AccountFactory(arr=Decimal(120_000))
    account.components.set(used if used is not None else components)
    return ImpactFactory(incident=incident, account=account, **fields)


def test_the_downtime_comes_from_the_status_history_of_the_accounts_components(start):
    payments = ComponentFactory(created_at=start - timedelta(days=30))
    outage(payments, start + timedelta(minutes=10), 44)
    impact = impact_on([payments], start)
    assert downtime_with_source(impact) == (44, DowntimeSource.STATUS_HISTORY)
    suggestion = suggest_for(impact)
    assert (suggestion.downtime_minutes, suggestion.credit_percent, suggestion.downtime_source) == (
        44, Decimal(10), "status_history")
    assert "status history" in suggestion.downtime_source_sentence


def test_a_partial_outage_counts_three_tenths_and_overlaps_count_once(start):
    api, payments = ComponentFactory(created_at=start - timedelta(days=1)), ComponentFactory(
        created_at=start - timedelta(days=1))
    outage(api, start, 100, status="partial_outage")  # 30 weighted minutes
    outage(payments, start + timedelta(minutes=50), 20)  # inside the partial outage: major wins for 20 minutes
    impact = impact_on([api, payments], start)
    assert downtime_with_source(impact)[0] == 20 + round(80 * 0.3)


def test_only_the_incidents_time_counts_not_other_outages(start):
    payments = ComponentFactory(created_at=start - timedelta(days=30))
    outage(payments, start - timedelta(days=1), 300)  # a day before the incident
    outage(payments, start + timedelta(hours=5), 60)  # after it was resolved
    assert downtime_with_source(impact_on([payments], start))[0] == 0


def test_only_the_components_the_account_uses_count(start):
    payments, search = (ComponentFactory(created_at=start - timedelta(days=1)) for _ in range(2))
    outage(search, start, 120)
    outage(payments, start, 15)
    impact = impact_on([payments, search], start, used=[payments])
    assert downtime_with_source(impact) == (15, DowntimeSource.STATUS_HISTORY)


def test_a_typed_number_overrides_the_history(start):
    payments = ComponentFactory(created_at=start - timedelta(days=1))
    outage(payments, start, 15)
    impact = impact_on([payments], start, downtime_minutes=433)
    assert downtime_with_source(impact) == (433, DowntimeSource.TYPED)
    assert suggest_for(impact).credit_percent == Decimal(25)


def test_an_account_without_components_falls_back_to_how_long_the_incident_lasted(start):
    impact = impact_on([ComponentFactory()], start, used=[], hours=2)
    assert downtime_with_source(impact) == (120, DowntimeSource.INCIDENT_DURATION)


def test_the_sla_credit_api_says_where_the_downtime_came_from(api_as, support, start):
    payments = ComponentFactory(created_at=start - timedelta(days=1))
    outage(payments, start, 44)
    impact = impact_on([payments], start)
    body = api_as(support).get(f"/api/v1/impacts/{impact.pk}/sla-credit/").json()
    assert (body["downtime_minutes"], body["downtime_source"], body["credit_percent"]) == (44, "status_history", "10")


def test_the_impact_page_says_where_the_downtime_came_from(client, lead, start):
    payments = ComponentFactory(created_at=start - timedelta(days=1))
    outage(payments, start, 44)
    impact = impact_on([payments], start)
    client.force_login(lead)
    page = client.get(impact.get_absolute_url()).content.decode()
    assert "44 minutes down" in page and "from the status history of the components the account uses" in page
