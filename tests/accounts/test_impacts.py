"""Impacts: every move of the impact state machine, the reopen note, the close gate, who may work an impact,
recording and deriving impacts, and the gate the top impacts put on closing their incident."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import services
from accounts.choices import IMPACT_MACHINE, ImpactState
from accounts.models import AccountEvent, Compensation, FollowUp, Impact
from core.roles import ACCOUNT_MANAGER
from core.statemachine import TransitionNotAllowed
from incidents import services as incident_services
from incidents.choices import IncidentStatus, Severity
from incidents.models import TimelineEntry
from sentiment.models import Mention
from tests.factories import AccountFactory, ComponentFactory, ImpactFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPECTED_MOVES = {
    (ImpactState.IDENTIFIED, ImpactState.CONTACTED),
    (ImpactState.CONTACTED, ImpactState.FOLLOW_UP),
    (ImpactState.CONTACTED, ImpactState.COMPENSATION),
    (ImpactState.CONTACTED, ImpactState.CLOSED),
    (ImpactState.FOLLOW_UP, ImpactState.CONTACTED),
    (ImpactState.FOLLOW_UP, ImpactState.COMPENSATION),
    (ImpactState.FOLLOW_UP, ImpactState.CLOSED),
    (ImpactState.COMPENSATION, ImpactState.FOLLOW_UP),
    (ImpactState.COMPENSATION, ImpactState.CLOSED),
    (ImpactState.CLOSED, ImpactState.CONTACTED),
    (ImpactState.CLOSED, ImpactState.FOLLOW_UP),
    (ImpactState.CLOSED, ImpactState.COMPENSATION),
}
ALL_PAIRS = [(a, b) for a in ImpactState for b in ImpactState]
ALLOWED = [(a, b) for a, b in ALL_PAIRS if IMPACT_MACHINE.can(a, b)]
REFUSED = [(a, b) for a, b in ALL_PAIRS if not IMPACT_MACHINE.can(a, b)]


@pytest.fixture
def acme(manager):
    return AccountFactory(name="Acme", owner=manager, tier="enterprise", arr=120_000)


@pytest.fixture
def incident():
    return IncidentFactory(title="Checkout down")


@pytest.fixture
def impact(acme, incident):
    return ImpactFactory(account=acme, incident=incident, state=ImpactState.CONTACTED)


def account_descriptions(impact):
    return list(AccountEvent.objects.filter(impact=impact).order_by("at", "id").values_list("kind", "description"))


def compensation(impact, state, *, kind="gift", amount=Decimal("100.00"), percentage=None):
    return Compensation.objects.create(impact=impact, kind=kind, amount=amount, percentage=percentage, currency="USD",
                                       reason="downtime", proposed_by=impact.owner, state=state)


# --- The state machine, walked as data ------------------------------------------------------------------

def test_the_declared_impact_moves_are_exactly_the_expected_ones():
    assert set(ALLOWED) == EXPECTED_MOVES
    assert len(REFUSED) == 25 - 12


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_an_allowed_move_changes_the_state_and_is_recorded_on_both_timelines(manager, acme, incident, source,
                                                                             target):
    impact = ImpactFactory(account=acme, incident=incident, state=source)

    moved = services.move_impact(impact, target, actor=manager, note="checked")

    impact.refresh_from_db()
    assert impact.state == target == moved.state
    assert (impact.closed_at is not None) == (target == ImpactState.CLOSED)
    verb = "reopened as" if source == ImpactState.CLOSED else "moved to"
    description = f"{verb} {ImpactState(target).label.lower()}: checked"
    event = AccountEvent.objects.get(impact=impact)
    assert (event.kind, event.description, event.actor) == ("impact", description, manager)
    assert (event.data["old"], event.data["new"], event.data["note"]) == (source, target, "checked")
    entry = TimelineEntry.objects.get(incident=incident)
    assert (entry.kind, entry.description, entry.actor) == ("account", f"Acme: {description}", manager)
    assert (entry.data["impact_id"], entry.data["account_id"]) == (impact.pk, acme.pk)


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_a_refused_move_changes_nothing_and_says_why_in_a_sentence(manager, acme, incident, source, target):
    impact = ImpactFactory(account=acme, incident=incident, state=source)

    with pytest.raises(TransitionNotAllowed) as refusal:
        services.move_impact(impact, target, actor=manager, note="checked")

    impact.refresh_from_db()
    assert impact.state == source
    assert not AccountEvent.objects.exists() and not TimelineEntry.objects.exists()
    message = str(refusal.value)
    assert message[0].isupper() and message.endswith(".")
    if source == target:
        assert message == f"The impact is already {ImpactState(source).label.lower()}."
    else:
        assert f"cannot move from {ImpactState(source).label.lower()} to {ImpactState(target).label.lower()}" in message


def test_a_refusal_lists_where_the_impact_can_go_instead(manager, acme, incident):
    impact = ImpactFactory(account=acme, incident=incident, state=ImpactState.IDENTIFIED)
    with pytest.raises(TransitionNotAllowed) as refusal:
        services.move_impact(impact, ImpactState.CLOSED, actor=manager)
    assert str(refusal.value) == (
        "An impact cannot move from identified to closed; from identified it can move to: contacted."
    )


# --- Reopening -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("note", ["", "   "])
def test_reopening_a_closed_impact_without_a_note_is_refused(manager, acme, incident, note):
    impact = ImpactFactory(account=acme, incident=incident, state=ImpactState.CLOSED)
    with pytest.raises(ValidationError) as refusal:
        services.move_impact(impact, ImpactState.CONTACTED, actor=manager, note=note)
    assert refusal.value.message_dict == {"note": ["Say why the impact is reopened."]}
    impact.refresh_from_db()
    assert impact.state == ImpactState.CLOSED
    assert not AccountEvent.objects.exists()


def test_reopening_with_a_note_is_recorded_on_the_account_and_the_incident_timeline(manager, acme, incident):
    impact = ImpactFactory(account=acme, incident=incident, state=ImpactState.CLOSED, closed_at=timezone.now())

    services.move_impact(impact, ImpactState.FOLLOW_UP, actor=manager, note="they called back, still broken")

    impact.refresh_from_db()
    assert (impact.state, impact.closed_at) == (ImpactState.FOLLOW_UP, None)
    assert account_descriptions(impact) == [("impact", "reopened as follow-up: they called back, still broken")]
    assert list(incident.timeline.values_list("kind", "description")) == [
        ("account", "Acme: reopened as follow-up: they called back, still broken")
    ]


def test_a_closed_impact_takes_no_new_follow_up_or_compensation_until_reopened(manager):
    impact = ImpactFactory(account=AccountFactory(owner=manager))
    services.move_impact(impact, "contacted", actor=manager)
    services.move_impact(impact, "closed", actor=manager)

    with pytest.raises(TransitionNotAllowed, match="reopen it"):
        services.add_follow_up(impact, actor=manager, summary="Call", due_at=timezone.now())
    with pytest.raises(TransitionNotAllowed, match="reopen it"):
        services.propose_compensation(impact, actor=manager, kind="gift", amount=10, reason="sorry")

    assert not impact.follow_ups.exists() and not impact.compensations.exists()


# --- The close gate of one impact ------------------------------------------------------------------------

def test_closing_is_refused_while_a_follow_up_or_compensation_is_open_and_each_is_named(manager, impact):
    FollowUp.objects.create(impact=impact, summary="Call the CTO", owner=manager, due_at=timezone.now())
    FollowUp.objects.create(impact=impact, summary="Send the report", owner=manager, due_at=timezone.now())
    FollowUp.objects.create(impact=impact, summary="Already done", owner=manager, due_at=timezone.now(),
                            done_at=timezone.now(), outcome="ok")
    compensation(impact, "proposed")
    compensation(impact, "approved", kind="service_credit", amount=Decimal("50.00"))
    compensation(impact, "offered", kind="discount", amount=Decimal("200.00"))
    compensation(impact, "withdrawn", amount=Decimal("999.00"))

    with pytest.raises(TransitionNotAllowed) as refusal:
        services.move_impact(impact, ImpactState.CLOSED, actor=manager)

    assert str(refusal.value) == (
        "Acme cannot be closed yet: 2 follow-ups still open (Call the CTO; Send the report); "
        "3 compensations not settled (Gift 100.00 USD proposed; Service credit 50.00 USD approved; "
        "Discount 200.00 USD offered)."
    )
    impact.refresh_from_db()
    assert impact.state == ImpactState.CONTACTED


def test_one_open_follow_up_alone_blocks_closing_in_the_singular(manager, impact):
    FollowUp.objects.create(impact=impact, summary="Call the CTO", owner=manager, due_at=timezone.now())
    with pytest.raises(TransitionNotAllowed, match=r"^Acme cannot be closed yet: 1 follow-up still open "
                                                   r"\(Call the CTO\)\.$"):
        services.move_impact(impact, ImpactState.CLOSED, actor=manager)


@pytest.mark.parametrize("settled", ["accepted", "declined", "applied", "withdrawn"])
def test_closing_is_allowed_once_follow_ups_are_done_and_compensation_is_settled(manager, impact, settled):
    FollowUp.objects.create(impact=impact, summary="Call the CTO", owner=manager, due_at=timezone.now(),
                            done_at=timezone.now(), outcome="happy")
    compensation(impact, settled)

    services.move_impact(impact, ImpactState.CLOSED, actor=manager)

    impact.refresh_from_db()
    assert impact.state == ImpactState.CLOSED and impact.closed_at is not None


# --- Who may work an impact ------------------------------------------------------------------------------

def test_the_owning_account_manager_may_move_the_impact(manager, impact):
    services.move_impact(impact, ImpactState.FOLLOW_UP, actor=manager)
    impact.refresh_from_db()
    assert impact.state == ImpactState.FOLLOW_UP


def test_an_admin_may_move_any_impact(admin_user, impact):
    services.move_impact(impact, ImpactState.FOLLOW_UP, actor=admin_user)
    impact.refresh_from_db()
    assert impact.state == ImpactState.FOLLOW_UP
    assert AccountEvent.objects.get().actor == admin_user


def test_the_account_manager_who_owns_the_impact_but_not_the_account_may_move_it(acme, incident):
    deputy = UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    impact = ImpactFactory(account=acme, incident=incident, owner=deputy, state=ImpactState.CONTACTED)
    services.move_impact(impact, ImpactState.CLOSED, actor=deputy)
    impact.refresh_from_db()
    assert impact.state == ImpactState.CLOSED


@pytest.mark.parametrize("who", ["another_manager", "support", "lead", "roleless"])
def test_anyone_else_may_not_move_the_impact(request, impact, who):
    if who == "another_manager":
        actor = UserFactory(username="other-manager", role=ACCOUNT_MANAGER)
    else:
        actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied, match=r"^Only the owner of Acme or of this impact \(or an admin\) may work "
                                               r"on it\.$"):
        services.move_impact(impact, ImpactState.FOLLOW_UP, actor=actor)
    impact.refresh_from_db()
    assert impact.state == ImpactState.CONTACTED
    assert not AccountEvent.objects.exists()


# --- Recording impacts -----------------------------------------------------------------------------------

def test_a_new_impact_belongs_to_the_account_owner_and_is_recorded_on_both_timelines(lead, manager, acme,
                                                                                     incident):
    impact = services.create_impact(incident=incident, account=acme, actor=lead, level="critical",
                                    downtime_minutes=30)

    assert (impact.owner, impact.state, impact.source, impact.level) == (
        manager, ImpactState.IDENTIFIED, "manual", "critical")
    assert account_descriptions(impact) == [("impact", "identified as affected (critical)")]
    assert list(incident.timeline.values_list("kind", "description", "actor")) == [
        ("account", "Acme: identified as affected (critical)", lead.pk)
    ]


def test_a_new_impact_may_name_another_owner(lead, acme, incident):
    deputy = UserFactory(username="deputy", role=ACCOUNT_MANAGER)
    impact = services.create_impact(incident=incident, account=acme, actor=lead, owner=deputy)
    assert impact.owner == deputy


def test_the_same_account_cannot_be_recorded_twice_for_one_incident(lead, manager, acme, incident):
    services.create_impact(incident=incident, account=acme, actor=lead)
    with pytest.raises(ValidationError) as refusal:
        services.create_impact(incident=incident, account=acme, actor=manager)
    assert refusal.value.message_dict == {"account": ["Acme is already recorded as affected by this incident."]}
    assert Impact.objects.count() == 1
    assert AccountEvent.objects.count() == 1


def test_support_may_not_record_an_affected_account(support, acme, incident):
    with pytest.raises(PermissionDenied, match="Only communications leads and account managers record affected"):
        services.create_impact(incident=incident, account=acme, actor=support)
    assert not Impact.objects.exists()


def test_a_field_that_is_not_an_impact_field_cannot_be_set(lead, acme, incident):
    with pytest.raises(ValueError, match="^state cannot be set on a new impact$"):
        services.create_impact(incident=incident, account=acme, actor=lead, state=ImpactState.CLOSED)


@pytest.mark.parametrize(
    ("severity", "level"),
    [(Severity.SEV1, "critical"), (Severity.SEV2, "major"), (Severity.SEV3, "minor"), (Severity.SEV4, "minor")],
)
def test_deriving_records_each_account_using_an_affected_component_once(lead, manager, severity, level):
    checkout, search, billing = (
        ComponentFactory(name="Checkout"),
        ComponentFactory(name="Search"),
        ComponentFactory(name="Billing"),
    )
    incident = IncidentFactory(severity=severity, started_at=timezone.now() - timedelta(minutes=30, seconds=5))
    incident.components.set([checkout, search])
    uses_checkout = AccountFactory(name="Uses checkout", owner=manager)
    uses_checkout.components.set([checkout])
    uses_both = AccountFactory(name="Uses both")
    uses_both.components.set([checkout, search])
    uses_billing = AccountFactory(name="Uses billing", owner=manager)
    uses_billing.components.set([billing])

    assert services.derive_impacts(incident, actor=lead) == 2
    assert services.derive_impacts(incident, actor=lead) == 0  # not twice

    impacts = Impact.objects.filter(incident=incident).order_by("account__name")
    assert [(i.account.name, i.owner, i.level, i.source, i.state, i.downtime_minutes) for i in impacts] == [
        ("Uses both", None, level, "components", "identified", 30),
        ("Uses checkout", manager, level, "components", "identified", 30),
    ]
    events = AccountEvent.objects.order_by("account__name")
    assert [(e.account.name, e.impact.account.name, e.kind, e.actor, e.data["incident_id"]) for e in events] == [
        ("Uses both", "Uses both", "impact", lead, incident.pk),
        ("Uses checkout", "Uses checkout", "impact", lead, incident.pk),
    ]
    assert {e.description for e in events} == {"identified as affected (from the components it uses)"}
    assert list(incident.timeline.values_list("kind", "description")) == [
        ("account", "2 affected accounts identified from the components they use")
    ]


def test_deriving_skips_accounts_already_recorded_by_hand(lead, acme):
    checkout = ComponentFactory(name="Checkout")
    incident = IncidentFactory()
    incident.components.set([checkout])
    acme.components.set([checkout])
    other = AccountFactory(name="Other")
    other.components.set([checkout])
    services.create_impact(incident=incident, account=acme, actor=lead, level="minor")

    assert services.derive_impacts(incident, actor=lead) == 1

    assert dict(Impact.objects.filter(incident=incident).values_list("account__name", "source")) == {
        "Acme": "manual",
        "Other": "components",
    }
    assert incident.timeline.last().description == "1 affected account identified from the components they use"


def test_an_incident_without_components_derives_nothing(lead, acme, incident):
    acme.components.set([ComponentFactory()])
    assert services.derive_impacts(incident, actor=lead) == 0
    assert not Impact.objects.exists() and not incident.timeline.exists()


def test_a_manager_recording_another_managers_account_cannot_make_the_impact_their_own(manager, other_manager):
    theirs = AccountFactory(name="Theirs", owner=other_manager)

    with pytest.raises(PermissionDenied, match="Only the owner of Theirs"):
        services.create_impact(incident=IncidentFactory(), account=theirs, actor=manager, owner=manager)

    assert not Impact.objects.exists()


def test_a_manager_recording_another_managers_account_leaves_it_with_its_owner(manager, other_manager):
    theirs = AccountFactory(name="Theirs", owner=other_manager)

    impact = services.create_impact(incident=IncidentFactory(), account=theirs, actor=manager)

    assert impact.owner == other_manager


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


# --- Editing ---------------------------------------------------------------------------------------------


def test_editing_records_the_names_of_the_changed_fields_only(manager, impact):
    services.update_impact(
        impact, actor=manager, level="critical", downtime_minutes=90, affected_share=Decimal("12.5"), sla_breached=False
    )

    impact.refresh_from_db()
    assert (impact.level, impact.downtime_minutes, impact.affected_share) == ("critical", 90, Decimal("12.50"))
    assert account_descriptions(impact) == [
        ("edited", "impact edited: level, downtime minutes, share of users affected (%)")
    ]
    assert impact.incident.timeline.get().description == (
        "Acme: impact edited: level, downtime minutes, share of users affected (%)"
    )


def test_an_edit_that_changes_nothing_records_nothing(manager, impact):
    services.update_impact(impact, actor=manager, level=impact.level)
    assert not AccountEvent.objects.exists()


def test_editing_the_state_through_update_is_refused(manager, impact):
    with pytest.raises(ValueError, match="^state cannot be changed through update_impact$"):
        services.update_impact(impact, actor=manager, state=ImpactState.CLOSED)
    impact.refresh_from_db()
    assert impact.state == ImpactState.CONTACTED


def test_another_account_manager_may_not_edit_the_impact(impact):
    other = UserFactory(username="other-manager", role=ACCOUNT_MANAGER)
    with pytest.raises(PermissionDenied):
        services.update_impact(impact, actor=other, level="critical")
    impact.refresh_from_db()
    assert impact.level == "major"


def test_a_share_of_users_above_100_percent_is_refused(manager):
    impact = ImpactFactory(account=AccountFactory(owner=manager))

    with pytest.raises(ValidationError):
        Impact(incident=impact.incident, account=impact.account, affected_share=150).full_clean()


# --- The incident's close gate ---------------------------------------------------------------------------


class TestIncidentCloseGate:
    @pytest.fixture
    def three(self, settings, lead, incident):
        """Three impacts whose priority order is fixed by tier, revenue and level."""
        settings.IMPACT_TOP_N = 2
        incident_services.change_status(incident, IncidentStatus.RESOLVED, actor=lead)
        first = ImpactFactory(
            incident=incident,
            level="critical",
            downtime_minutes=240,
            sla_breached=True,
            account=AccountFactory(name="First strategic", tier="strategic", arr=2_000_000),
        )
        second = ImpactFactory(
            incident=incident,
            level="major",
            downtime_minutes=60,
            account=AccountFactory(name="Second enterprise", tier="enterprise", arr=500_000),
        )
        third = ImpactFactory(
            incident=incident,
            level="minor",
            downtime_minutes=5,
            account=AccountFactory(name="Third self-serve", tier="self_serve", arr=1_000),
        )
        return first, second, third

    def close(self, incident, lead):
        incident_services.change_status(incident, IncidentStatus.CLOSED, actor=lead)
        incident.refresh_from_db()
        return incident.status

    def test_the_incident_cannot_close_while_one_of_the_top_impacts_is_open(self, lead, incident, three):
        first, second, third = three
        Impact.objects.filter(pk__in=[second.pk, third.pk]).update(state=ImpactState.CLOSED)

        with pytest.raises(TransitionNotAllowed) as refusal:
            self.close(incident, lead)

        assert str(refusal.value) == (
            "The incident cannot be closed yet: 1 of the top 2 affected accounts is still open: "
            "First strategic (identified)."
        )
        incident.refresh_from_db()
        assert incident.status == IncidentStatus.RESOLVED

    def test_both_open_top_impacts_are_named_in_order(self, lead, incident, three):
        Impact.objects.filter(pk=three[1].pk).update(state=ImpactState.FOLLOW_UP)
        with pytest.raises(
            TransitionNotAllowed,
            match=r"yet: 2 of the top 2 affected accounts are still open: "
            r"First strategic \(identified\), Second enterprise "
            r"\(follow-up\)\.$",
        ):
            self.close(incident, lead)

    def test_the_incident_closes_when_the_top_impacts_are_closed_though_a_lower_one_is_open(
        self, lead, incident, three
    ):
        first, second, third = three
        Impact.objects.filter(pk__in=[first.pk, second.pk]).update(state=ImpactState.CLOSED)
        assert Impact.objects.get(pk=third.pk).is_open

        assert self.close(incident, lead) == IncidentStatus.CLOSED

    def test_a_flagged_unreviewed_mention_of_the_incident_blocks_with_its_own_sentence(self, lead, incident, three):
        Impact.objects.filter(pk__in=[three[0].pk, three[1].pk]).update(state=ImpactState.CLOSED)
        Mention.objects.create(
            source="api", external_id="m1", text="still down", posted_at=timezone.now(), incident=incident, flagged=True
        )
        Mention.objects.create(
            source="api", external_id="m2", text="fine", posted_at=timezone.now(), incident=incident, flagged=False
        )

        with pytest.raises(TransitionNotAllowed) as refusal:
            self.close(incident, lead)

        assert str(refusal.value) == (
            "The incident cannot be closed yet: 1 flagged mention is still unreviewed in the review queue."
        )

    def test_both_gates_are_listed_together(self, lead, incident, three):
        Mention.objects.create(
            source="api", external_id="m1", text="still down", posted_at=timezone.now(), incident=incident, flagged=True
        )
        Impact.objects.filter(pk=three[1].pk).update(state=ImpactState.CLOSED)

        with pytest.raises(TransitionNotAllowed) as refusal:
            self.close(incident, lead)

        message = str(refusal.value)
        prefix = "The incident cannot be closed yet: "
        assert message.startswith(prefix) and message.endswith(".")
        assert set(message[len(prefix) : -1].split("; ")) == {  # in the order the apps registered their checks
            "1 of the top 2 affected accounts is still open: First strategic (identified)",
            "1 flagged mention is still unreviewed in the review queue",
        }
