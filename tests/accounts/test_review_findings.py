"""Defects a code review of the accounts work found, each pinned by a test."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services
from accounts.csv_io import import_accounts
from accounts.models import Account, Impact
from core.roles import ACCOUNT_MANAGER
from core.statemachine import TransitionNotAllowed
from incidents import services as incident_services
from sentiment.models import Mention
from tests.factories import AccountFactory, ImpactFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_manager():
    return UserFactory(username="manager2", role=ACCOUNT_MANAGER)


def test_a_manager_recording_another_managers_account_cannot_make_the_impact_their_own(manager, other_manager):
    theirs = AccountFactory(name="Theirs", owner=other_manager)

    with pytest.raises(PermissionDenied, match="Only the owner of Theirs"):
        services.create_impact(incident=IncidentFactory(), account=theirs, actor=manager, owner=manager)

    assert not Impact.objects.exists()


def test_a_manager_recording_another_managers_account_leaves_it_with_its_owner(manager, other_manager):
    theirs = AccountFactory(name="Theirs", owner=other_manager)

    impact = services.create_impact(incident=IncidentFactory(), account=theirs, actor=manager)

    assert impact.owner == other_manager


def test_a_closed_impact_takes_no_new_follow_up_or_compensation_until_reopened(manager):
    impact = ImpactFactory(account=AccountFactory(owner=manager))
    services.move_impact(impact, "contacted", actor=manager)
    services.move_impact(impact, "closed", actor=manager)

    with pytest.raises(TransitionNotAllowed, match="reopen it"):
        services.add_follow_up(impact, actor=manager, summary="Call", due_at=timezone.now())
    with pytest.raises(TransitionNotAllowed, match="reopen it"):
        services.propose_compensation(impact, actor=manager, kind="gift", amount=10, reason="sorry")

    assert not impact.follow_ups.exists() and not impact.compensations.exists()


def test_no_affected_account_is_added_to_or_reopened_on_a_closed_incident(manager, lead):
    incident = IncidentFactory(status="resolved", resolved_at=timezone.now())
    impact = ImpactFactory(incident=incident, account=AccountFactory(owner=manager))
    services.move_impact(impact, "contacted", actor=manager)
    services.move_impact(impact, "closed", actor=manager)
    incident_services.change_status(incident, "closed", actor=lead)

    with pytest.raises(TransitionNotAllowed, match="is closed"):
        services.create_impact(incident=incident, account=AccountFactory(owner=manager), actor=manager)
    with pytest.raises(TransitionNotAllowed, match="is closed"):
        services.move_impact(impact, "follow_up", actor=manager, note="they called back")


def test_the_account_page_shows_a_manager_only_mentions_they_may_read(client, manager, other_manager):
    theirs = AccountFactory(name="Theirs", owner=other_manager)
    Mention.objects.create(source="api", external_id="m1", text="secret complaint from their CTO",
                           posted_at=timezone.now(), account=theirs)

    client.force_login(manager)
    hidden = client.get(f"/accounts/{theirs.pk}/").content.decode()
    client.force_login(other_manager)
    shown = client.get(f"/accounts/{theirs.pk}/").content.decode()

    assert "secret complaint" not in hidden and "secret complaint" in shown


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "0", "abc"])
def test_a_bad_per_column_on_the_board_falls_back_to_the_default(client, manager, value):
    client.force_login(manager)

    assert client.get("/board/", {"per_column": value}).status_code == 200


def test_reimporting_a_name_in_another_case_updates_the_account(db):
    import_accounts("name,tier\nAcme,growth\n")

    report = import_accounts("name,tier\nACME,strategic\n")

    assert (report.created, report.updated) == (0, 1)
    assert list(Account.objects.values_list("name", "tier")) == [("ACME", "strategic")]


def test_a_contact_name_too_long_for_the_column_is_reported_not_a_crash(db):
    report = import_accounts(f'name,contacts\nAcme,"{"A" * 201} <a@acme.example>"\n')

    assert not report.committed
    assert report.errors == [(2, "the contact name for a@acme.example is longer than 200 characters")]


def test_a_share_of_users_above_100_percent_is_refused(manager):
    impact = ImpactFactory(account=AccountFactory(owner=manager))

    with pytest.raises(ValidationError):
        Impact(incident=impact.incident, account=impact.account, affected_share=150).full_clean()


def test_an_escalation_on_a_closed_impact_reopens_it_for_the_owner(support, manager):
    from sentiment import review

    incident = IncidentFactory()
    account = AccountFactory(owner=manager)
    impact = ImpactFactory(incident=incident, account=account)
    services.move_impact(impact, "contacted", actor=manager)
    services.move_impact(impact, "closed", actor=manager)
    mention = Mention.objects.create(source="x", external_id="1", author_handle="acme", text="still broken",
                                     posted_at=timezone.now() - timedelta(minutes=1), account=account,
                                     incident=incident, flagged=True)

    review.escalate(mention, actor=support)

    impact.refresh_from_db()
    assert impact.state == "follow_up" and impact.follow_ups.filter(done_at__isnull=True).count() == 1
