"""The accounts API by role: who reads and writes which account, impact, follow-up and compensation; the
state machines' 409s; input errors; the ranked impact listing and its constant query count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import Account, Compensation, Contact, EmailDomain, FollowUp, Impact
from comms.models import Message
from core.roles import ACCOUNT_MANAGER, COMMS_LEAD
from incidents.models import Incident
from tests.factories import (
    AccountFactory,
    ComponentFactory,
    ContactFactory,
    ImpactFactory,
    IncidentFactory,
    UserFactory,
)
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db
READ_ONLY = ["This field is read-only and cannot be set."]


@pytest.fixture
def other_lead(db):
    return UserFactory(username="lead2", role=COMMS_LEAD)


@pytest.fixture
def account(manager):
    return AccountFactory(name="Acme", tier="enterprise", arr=120_000, owner=manager)


@pytest.fixture
def foreign(other_manager):
    """An account another account manager owns."""
    return AccountFactory(name="Globex", owner=other_manager)


@pytest.fixture
def incident():
    return IncidentFactory(title="Checkout errors")


@pytest.fixture
def impact(incident, account):
    return ImpactFactory(incident=incident, account=account)


def post(client, url, body=None):
    return client.post(url, body or {}, format="json")


def patch(client, url, body):
    return client.patch(url, body, format="json")


def follow_up(impact, actor, summary="Call the CTO", due_in=timedelta(hours=2)):
    return services.add_follow_up(impact, actor=actor, summary=summary, due_at=timezone.now() + due_in)


def gift(impact, actor, amount):
    return services.propose_compensation(impact, actor=actor, kind="gift", amount=Decimal(amount),
                                         reason="Three hours down during their launch")


# --- Roles --------------------------------------------------------------------------------------------

LISTS = ["accounts", "contacts", "impacts", "follow-ups", "compensations"]


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("roleless", 403)])
@pytest.mark.parametrize("resource", LISTS)
def test_anonymous_and_roleless_users_cannot_read_accounts_or_their_work(api_as, users, resource, role, status):
    client = api_as(users[role] if role else None)
    assert client.get(f"/api/v1/{resource}/").status_code == status


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("roleless", 403)])
def test_anonymous_and_roleless_users_cannot_read_or_record_an_incidents_impacts(api_as, users, incident, account,
                                                                                  role, status):
    client = api_as(users[role] if role else None)
    assert client.get(f"/api/v1/incidents/{incident.pk}/impacts/").status_code == status
    assert post(client, f"/api/v1/incidents/{incident.pk}/impacts/", {"account": account.pk}).status_code == status
    assert not Impact.objects.exists()


@pytest.mark.parametrize("role", ["lead", "manager", "support"])
def test_every_role_reads_every_account_and_its_work(api_as, users, foreign, incident, role):
    impact = ImpactFactory(incident=incident, account=foreign)
    ContactFactory(account=foreign)
    gift(impact, foreign.owner, 100)
    follow_up(impact, foreign.owner)
    client = api_as(users[role])
    for resource in LISTS:
        response = client.get(f"/api/v1/{resource}/")
        assert response.status_code == 200, resource
        assert response.json()["count"] == 1, resource
    assert client.get(f"/api/v1/incidents/{incident.pk}/impacts/").json()["count"] == 1
    assert client.get(f"/api/v1/impacts/{impact.pk}/").status_code == 200


def test_support_reads_but_cannot_write_anything(api_as, support, account, impact):
    contact = ContactFactory(account=account)
    planned = follow_up(impact, account.owner)
    offered = gift(impact, account.owner, 100)
    client = api_as(support)
    refused = [
        post(client, "/api/v1/accounts/", {"name": "Initech"}),
        patch(client, f"/api/v1/accounts/{account.pk}/", {"notes": "x"}),
        post(client, "/api/v1/contacts/", {"account": account.pk, "name": "Ann", "email": "ann@acme.com"}),
        client.delete(f"/api/v1/contacts/{contact.pk}/"),
        post(client, f"/api/v1/incidents/{impact.incident_id}/impacts/", {"account": AccountFactory().pk}),
        post(client, f"/api/v1/incidents/{impact.incident_id}/impacts/derive/"),
        patch(client, f"/api/v1/impacts/{impact.pk}/", {"level": "critical"}),
        post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "contacted"}),
        post(client, f"/api/v1/impacts/{impact.pk}/message/"),
        post(client, "/api/v1/follow-ups/", {"impact": impact.pk, "summary": "x", "due_at": "2090-01-01T10:00Z"}),
        post(client, f"/api/v1/follow-ups/{planned.pk}/complete/", {"outcome": "done"}),
        post(client, "/api/v1/compensations/", {"impact": impact.pk, "kind": "gift", "amount": "5", "reason": "x"}),
        post(client, f"/api/v1/compensations/{offered.pk}/move/", {"state": "approved"}),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert (Account.objects.count(), Contact.objects.count(), Impact.objects.count()) == (2, 1, 1)
    assert Impact.objects.get().state == "identified" and FollowUp.objects.get().is_open
    assert Compensation.objects.get().state == "proposed" and not Message.objects.exists()


# --- Accounts -----------------------------------------------------------------------------------------

def test_a_manager_creates_an_account_that_is_theirs(api_as, manager):
    api_component = ComponentFactory(name="API")
    response = post(api_as(manager), "/api/v1/accounts/", {
        "name": "Initech", "tier": "strategic", "arr": "2000000.00", "currency": "eur",
        "email_domains": ["Initech.com", "@initech.io"], "social_handles": ["@InitechHQ"],
        "components": [api_component.pk],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["currency"], body["is_key"], body["contacts"]) == (manager.pk, "EUR", True, [])
    assert body["email_domains"] == ["initech.com", "initech.io"]
    assert (body["social_handles"], body["components"]) == (["initechhq"], [api_component.pk])
    assert Account.objects.get(name="Initech").events.get().description == "account created"


def test_a_manager_changes_their_own_account(api_as, manager, account):
    response = patch(api_as(manager), f"/api/v1/accounts/{account.pk}/",
                     {"tier": "strategic", "email_domains": ["acme.com"], "notes": "Launch in March"})
    assert response.status_code == 200, response.content
    assert (response.json()["tier"], response.json()["email_domains"]) == ("strategic", ["acme.com"])
    account.refresh_from_db()
    assert (account.tier, account.notes) == ("strategic", "Launch in March")


def test_a_manager_cannot_change_another_managers_account(api_as, manager, foreign):
    client = api_as(manager)
    response = patch(client, f"/api/v1/accounts/{foreign.pk}/", {"notes": "mine now", "owner": manager.pk})
    assert response.status_code == 403
    assert response.json()["message"] == "Only the owner of Globex (or an admin) may change it."
    assert patch(client, f"/api/v1/accounts/{foreign.pk}/", {"tier": "nonsense"}).status_code == 403  # not a 400
    assert client.put(f"/api/v1/accounts/{foreign.pk}/", {"name": "Globex"}, format="json").status_code == 403
    foreign.refresh_from_db()
    assert (foreign.owner.username, foreign.notes) == ("manager2", "")


def test_a_communications_lead_reads_but_does_not_create_or_change_accounts(api_as, lead, account):
    client = api_as(lead)
    assert client.get(f"/api/v1/accounts/{account.pk}/").json()["name"] == "Acme"
    assert post(client, "/api/v1/accounts/", {"name": "Initech"}).status_code == 403
    assert patch(client, f"/api/v1/accounts/{account.pk}/", {"notes": "x"}).status_code == 403


def test_an_admin_changes_any_account_and_hands_it_to_another_manager(api_as, admin_user, account, other_manager):
    response = patch(api_as(admin_user), f"/api/v1/accounts/{account.pk}/", {"owner": other_manager.pk})
    assert response.status_code == 200
    assert Account.objects.get(pk=account.pk).owner == other_manager


def test_accounts_are_never_deleted(api_as, manager, account):
    assert api_as(manager).delete(f"/api/v1/accounts/{account.pk}/").status_code == 405
    assert Account.objects.filter(pk=account.pk).exists()


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"name": "Initech", "tier": "platinum"}, "tier", '"platinum" is not a valid choice.'),
    ({"name": "Initech", "arr": "-1"}, "arr", "Ensure this value is greater than or equal to 0."),
    ({"name": "Acme"}, "name", "account with this name already exists."),
    ({"name": "Initech", "email_domains": ["not a domain"]}, "email_domains",
     "Not an email domain: not a domain (write e.g. example.com)."),
])
def test_invalid_account_fields_are_a_400_naming_the_problem(api_as, manager, account, body, field, message):
    response = post(api_as(manager), "/api/v1/accounts/", body)
    assert response.status_code == 400
    assert response.json()["fields"][field] == [message]
    assert response.json()["message"] == f"Check these fields: {field}."
    assert Account.objects.count() == 1


def test_an_email_domain_or_handle_of_another_account_is_a_400_naming_that_account(api_as, manager, account,
                                                                                   foreign):
    EmailDomain.objects.create(account=foreign, domain="globex.com")
    services.save_account(foreign, actor=foreign.owner, social_handles=["globex"])
    response = patch(api_as(manager), f"/api/v1/accounts/{account.pk}/",
                     {"email_domains": ["acme.com", "GLOBEX.com"], "social_handles": ["@globex"]})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "email_domains": ["globex.com already belongs to Globex"],
        "social_handles": ["@globex already belongs to Globex"],
    }
    assert not account.email_domains.exists()


def test_read_only_and_unknown_account_fields_are_refused(api_as, manager, account):
    response = patch(api_as(manager), f"/api/v1/accounts/{account.pk}/",
                     {"is_key": False, "contacts": [], "created_at": "2020-01-01T00:00Z", "colour": "red"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "is_key": READ_ONLY, "contacts": READ_ONLY, "created_at": READ_ONLY, "colour": ["Unknown field."],
    }


def test_the_owner_must_be_an_account_manager_or_nobody(api_as, manager, support, lead, account):
    client = api_as(manager)
    for user in (support, lead):
        response = patch(client, f"/api/v1/accounts/{account.pk}/", {"owner": user.pk})
        assert response.status_code == 400
        assert response.json()["fields"] == {"owner": [f"{user.username} is not an account manager."]}
    assert patch(client, f"/api/v1/accounts/{account.pk}/", {"owner": None}).json()["owner"] is None


def test_accounts_filter_by_tier_owner_and_name(api_as, support, account, foreign):
    AccountFactory(name="Acme Labs", tier="self_serve")
    client = api_as(support)

    def names(query):
        return [row["name"] for row in client.get(f"/api/v1/accounts/?{query}").json()["results"]]

    assert names("q=acme") == ["Acme", "Acme Labs"]
    assert names("tier=enterprise&tier=self_serve") == ["Acme", "Acme Labs"]
    assert names(f"owner={foreign.owner_id}") == ["Globex"]
    assert client.get("/api/v1/accounts/?tier=platinum").status_code == 400


def test_an_account_shows_its_contacts_primary_first(api_as, support, account):
    ContactFactory(account=account, name="Bob", email="bob@acme.com")
    ContactFactory(account=account, name="Zoe", email="zoe@acme.com", is_primary=True)
    body = api_as(support).get(f"/api/v1/accounts/{account.pk}/").json()
    assert [(c["name"], c["is_primary"]) for c in body["contacts"]] == [("Zoe", True), ("Bob", False)]
    assert body["is_key"] is True


def test_the_account_list_takes_the_same_queries_for_3_or_30_accounts(api_as, support):
    client = api_as(support)

    def queries(n):
        Account.objects.all().delete()
        component = ComponentFactory()
        for _ in range(n):
            listed = AccountFactory()
            listed.components.add(component)
            ContactFactory(account=listed)
            EmailDomain.objects.create(account=listed, domain=f"c{listed.pk}.example")
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get("/api/v1/accounts/").json()["results"]) == n
        return len(captured)

    assert queries(3) == queries(30)


# --- Contacts -----------------------------------------------------------------------------------------

def test_a_manager_adds_changes_and_removes_contacts_of_their_account(api_as, manager, account):
    client = api_as(manager)
    first = post(client, "/api/v1/contacts/", {"account": account.pk, "name": "Ann", "email": "ANN@acme.com",
                                               "is_primary": True})
    assert first.status_code == 201, first.content
    assert first.json()["email"] == "ann@acme.com"
    second = post(client, "/api/v1/contacts/", {"account": account.pk, "name": "Bo", "email": "bo@acme.com",
                                                "is_primary": True}).json()
    assert not Contact.objects.get(pk=first.json()["id"]).is_primary  # one primary contact per account
    assert patch(client, f"/api/v1/contacts/{second['id']}/", {"role": "CTO"}).json()["role"] == "CTO"
    assert client.delete(f"/api/v1/contacts/{second['id']}/").status_code == 204
    assert list(Contact.objects.values_list("name", flat=True)) == ["Ann"]
    assert account.events.filter(description="contact Bo removed").exists()


def test_a_manager_cannot_touch_contacts_of_another_managers_account(api_as, manager, foreign):
    theirs = ContactFactory(account=foreign, name="Gail")
    client = api_as(manager)
    created = post(client, "/api/v1/contacts/", {"account": foreign.pk, "name": "Eve", "email": "eve@globex.com"})
    assert created.status_code == 403
    assert created.json()["message"] == "Only the owner of Globex (or an admin) may change it."
    assert patch(client, f"/api/v1/contacts/{theirs.pk}/", {"name": "Eve"}).status_code == 403
    assert client.delete(f"/api/v1/contacts/{theirs.pk}/").status_code == 403
    assert list(Contact.objects.values_list("name", flat=True)) == ["Gail"]


def test_a_second_contact_with_the_same_email_is_a_400(api_as, manager, account):
    ContactFactory(account=account, email="ann@acme.com")
    response = post(api_as(manager), "/api/v1/contacts/",
                    {"account": account.pk, "name": "Ann again", "email": "Ann@Acme.com"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["Acme already has a contact with ann@acme.com."]}


def test_a_contact_stays_with_its_account(api_as, manager, account):
    contact = ContactFactory(account=account)
    other = AccountFactory(owner=manager)
    response = patch(api_as(manager), f"/api/v1/contacts/{contact.pk}/", {"account": other.pk})
    assert response.status_code == 400
    assert response.json()["fields"] == {"account": READ_ONLY}


def test_contacts_filter_by_account(api_as, support, account, foreign):
    ContactFactory(account=account)
    ContactFactory(account=foreign)
    body = api_as(support).get(f"/api/v1/contacts/?account={foreign.pk}").json()
    assert [row["account"] for row in body["results"]] == [foreign.pk]


# --- An incident's impacts ----------------------------------------------------------------------------

@pytest.fixture
def ranked_impacts(incident, manager):
    """Three impacts whose order only the score explains (not creation, not name)."""
    small = ImpactFactory(incident=incident, level="minor",
                          account=AccountFactory(name="Small", tier="self_serve", arr=1_000, owner=manager))
    big = ImpactFactory(incident=incident, level="critical", downtime_minutes=240, sla_breached=True,
                        account=AccountFactory(name="Big", tier="strategic", arr=2_000_000))
    middle = ImpactFactory(incident=incident, level="major", downtime_minutes=60,
                           account=AccountFactory(name="Middle", tier="growth", arr=100_000))
    return {"small": small, "big": big, "middle": middle}


def test_an_incidents_impacts_are_listed_highest_score_first_with_the_parts_of_the_score(api_as, lead, incident,
                                                                                         ranked_impacts):
    rows = api_as(lead).get(f"/api/v1/incidents/{incident.pk}/impacts/").json()["results"]
    assert [row["account"]["name"] for row in rows] == ["Big", "Middle", "Small"]
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    top = rows[0]
    assert top["score"] == 85.0
    assert top["account"] == {"id": ranked_impacts["big"].account_id, "name": "Big", "tier": "strategic",
                              "arr": "2000000.00", "currency": "USD", "owner": None}
    parts = {part["name"]: part for part in top["score_parts"]}
    assert parts["revenue"] == {"name": "revenue", "label": "Revenue", "detail": "2,000,000 USD a year",
                                "factor": 1.0, "weight": 30.0, "points": 30.0}
    points = [part["points"] for part in top["score_parts"]]
    assert points == sorted(points, reverse=True) and sum(points) == 85.0
    assert (top["level"], top["state"], top["downtime_minutes"], top["sla_breached"]) == ("critical", "identified",
                                                                                          240, True)


def test_the_listing_counts_open_follow_ups_and_open_compensation(api_as, support, manager, impact):
    follow_up(impact, manager)
    services.complete_follow_up(follow_up(impact, manager, "Email the CTO"), actor=manager, outcome="Sent")
    gift(impact, manager, 100)
    withdrawn = gift(impact, manager, 50)
    services.move_compensation(withdrawn, "withdrawn", actor=manager)
    row = api_as(support).get(f"/api/v1/incidents/{impact.incident_id}/impacts/").json()["results"][0]
    assert (row["open_follow_ups"], row["open_compensations"]) == (1, 1)


def test_the_listing_takes_the_same_number_of_queries_for_3_or_30_impacts(api_as, lead, manager, incident):
    client = api_as(lead)

    def queries(n):
        Impact.objects.all().delete()
        for _ in range(n):
            listed = ImpactFactory(incident=incident, account=AccountFactory(owner=manager))
            follow_up(listed, manager)
            gift(listed, manager, 10)
            mention("down again", label="negative", account=listed.account, incident=incident)
        with CaptureQueriesContext(connection) as captured:
            rows = client.get(f"/api/v1/incidents/{incident.pk}/impacts/").json()["results"]
        assert len(rows) == n and all(row["open_follow_ups"] == 1 for row in rows)
        return len(captured)

    assert queries(3) == queries(30)


def test_a_lead_records_an_affected_account_which_belongs_to_its_manager(api_as, lead, manager, incident, account):
    response = post(api_as(lead), f"/api/v1/incidents/{incident.pk}/impacts/",
                    {"account": account.pk, "level": "critical", "downtime_minutes": 90, "affected_users": 40})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["source"], body["owner"], body["incident"], body["level"]) == ("api", manager.pk, incident.pk,
                                                                                 "critical")
    assert body["follow_ups"] == [] and body["compensations"] == [] and body["score"] > 0
    assert incident.timeline.filter(description="Acme: identified as affected (critical)").exists()


def test_recording_the_same_account_twice_is_a_400_naming_it(api_as, manager, impact):
    response = post(api_as(manager), f"/api/v1/incidents/{impact.incident_id}/impacts/",
                    {"account": impact.account_id})
    assert response.status_code == 400
    assert response.json()["fields"] == {"account": ["Acme is already recorded as affected by this incident."]}
    assert Impact.objects.count() == 1


def test_a_new_impact_refuses_the_state_and_an_unknown_incident_is_a_404(api_as, manager, incident, account):
    client = api_as(manager)
    response = post(client, f"/api/v1/incidents/{incident.pk}/impacts/", {"account": account.pk, "state": "closed"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"state": ["Unknown field."]}
    assert client.get("/api/v1/incidents/999999/impacts/").status_code == 404
    assert post(client, "/api/v1/incidents/999999/impacts/", {"account": account.pk}).status_code == 404


def test_deriving_records_every_account_using_the_incidents_components_once(api_as, lead, incident, account):
    checkout = ComponentFactory(name="Checkout")
    incident.components.add(checkout)
    account.components.add(checkout)
    AccountFactory(name="Uses it too").components.add(checkout)
    AccountFactory(name="Does not")
    client = api_as(lead)
    assert post(client, f"/api/v1/incidents/{incident.pk}/impacts/derive/").json() == {"created": 2}
    assert post(client, f"/api/v1/incidents/{incident.pk}/impacts/derive/").json() == {"created": 0}
    assert set(Impact.objects.values_list("source", flat=True)) == {"components"}


# --- Impacts ------------------------------------------------------------------------------------------

def test_an_impact_shows_its_follow_ups_compensation_and_what_keeps_it_open(api_as, lead, manager, impact):
    follow_up(impact, manager)
    gift(impact, manager, 100)
    body = api_as(lead).get(f"/api/v1/impacts/{impact.pk}/").json()
    assert [f["summary"] for f in body["follow_ups"]] == ["Call the CTO"]
    assert [(c["kind"], c["value"], c["state"]) for c in body["compensations"]] == [("gift", "100.00", "proposed")]
    assert body["close_blockers"] == ["1 follow-up still open (Call the CTO)",
                                      "1 compensation not settled (Gift 100.00 USD proposed)"]
    assert body["allowed_states"] == ["contacted"] and "score_parts" in body


def test_the_owner_edits_an_impact_and_others_cannot(api_as, manager, other_manager, lead, impact):
    url = f"/api/v1/impacts/{impact.pk}/"
    assert patch(api_as(other_manager), url, {"level": "critical"}).status_code == 403
    assert patch(api_as(lead), url, {"level": "critical"}).status_code == 403
    response = patch(api_as(manager), url, {"level": "critical", "downtime_minutes": 45, "owner": other_manager.pk})
    assert response.status_code == 200, response.content
    assert (response.json()["level"], response.json()["downtime_minutes"]) == ("critical", 45)
    assert Impact.objects.get().owner == other_manager


def test_an_impact_refuses_read_only_fields_and_a_non_manager_owner(api_as, manager, support, impact):
    client = api_as(manager)
    response = patch(client, f"/api/v1/impacts/{impact.pk}/", {"state": "closed", "account": 1, "score": 99})
    assert response.json()["fields"] == {"state": READ_ONLY, "account": READ_ONLY, "score": READ_ONLY}
    response = patch(client, f"/api/v1/impacts/{impact.pk}/", {"owner": support.pk})
    assert response.json()["fields"] == {"owner": ["support is not an account manager."]}
    assert patch(client, f"/api/v1/impacts/{impact.pk}/", {"affected_share": "-1"}).status_code == 400


def test_impacts_are_changed_with_patch_only_and_never_deleted(api_as, manager, impact):
    client = api_as(manager)
    assert client.put(f"/api/v1/impacts/{impact.pk}/", {"level": "minor"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/impacts/{impact.pk}/").status_code == 405
    assert post(client, "/api/v1/impacts/", {"account": impact.account_id}).status_code == 405


def test_impacts_filter_by_state_owner_mine_tier_and_overdue(api_as, manager, other_manager, incident, impact):
    theirs = ImpactFactory(incident=incident, account=AccountFactory(name="Globex", tier="growth",
                                                                   owner=other_manager))
    services.move_impact(theirs, "contacted", actor=other_manager)
    follow_up(impact, manager, due_in=-timedelta(minutes=5))  # overdue
    client = api_as(manager)

    def accounts(query):
        return [row["account"]["name"] for row in client.get(f"/api/v1/impacts/?{query}").json()["results"]]

    assert accounts("mine=true") == ["Acme"]
    assert accounts("mine=false") == ["Globex"]
    assert accounts(f"owner={other_manager.pk}") == ["Globex"]
    assert accounts("state=contacted&state=follow_up") == ["Globex"]
    assert accounts("tier=enterprise") == ["Acme"]
    assert accounts("overdue=true") == ["Acme"]
    assert sorted(accounts(f"incident={incident.pk}")) == ["Acme", "Globex"]


def test_the_owner_moves_an_impact_through_to_closed(api_as, manager, impact):
    client = api_as(manager)
    for state in ("contacted", "closed"):
        response = post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": state, "note": "Spoke to the CTO"})
        assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["allowed_states"]) == ("closed", ["contacted", "follow_up", "compensation"])
    assert body["closed_at"] is not None


def test_closing_an_impact_with_an_open_follow_up_is_a_409_listing_it(api_as, manager, impact):
    follow_up(impact, manager, "Call the CTO about the credit")
    client = api_as(manager)
    post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "contacted"})
    response = post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "closed"})
    assert response.status_code == 409
    assert response.json() == {
        "status": 409, "code": "conflict",
        "message": "Acme cannot be closed yet: 1 follow-up still open (Call the CTO about the credit).",
    }
    assert Impact.objects.get().state == "contacted"


def test_a_move_the_state_machine_does_not_allow_is_a_409_naming_the_allowed_moves(api_as, manager, impact):
    response = post(api_as(manager), f"/api/v1/impacts/{impact.pk}/move/", {"state": "closed"})
    assert response.status_code == 409
    assert response.json()["message"] == ("An impact cannot move from identified to closed; from identified it can "
                                          "move to: contacted.")


def test_reopening_a_closed_impact_needs_a_note(api_as, manager, impact):
    client = api_as(manager)
    post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "contacted"})
    post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "closed"})
    response = post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "contacted"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"note": ["Say why the impact is reopened."]}
    assert post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "contacted", "note": "Outage returned"}
                ).json()["state"] == "contacted"


@pytest.mark.parametrize("role", ["other_manager", "lead"])
def test_only_the_owner_moves_an_impact(api_as, impact, role, request):
    response = post(api_as(request.getfixturevalue(role)), f"/api/v1/impacts/{impact.pk}/move/",
                    {"state": "contacted"})
    assert response.status_code == 403
    assert Impact.objects.get().state == "identified"


def test_the_sla_credit_endpoint_gives_the_calculators_figures(api_as, support, impact):
    Impact.objects.filter(pk=impact.pk).update(downtime_minutes=44)  # 99.898 % uptime: below 99.9 %
    response = api_as(support).get(f"/api/v1/impacts/{impact.pk}/sla-credit/")
    assert response.status_code == 200
    body = response.json()
    figures = {name: body[name] for name in ("downtime_minutes", "uptime_percent", "tier_below", "capped",
                                             "monthly_fee", "currency", "amount")}
    assert figures == {"downtime_minutes": 44, "uptime_percent": "99.8981", "tier_below": "99.9", "capped": False,
                       "monthly_fee": "10000.00", "currency": "USD", "amount": "1000.00"}
    assert (Decimal(body["credit_percent"]), Decimal(body["cap_percent"])) == (10, 100)
    assert body["summary"].startswith("44 minutes down is 99.8981% uptime, below 99.9%: 10")
    assert body["summary"].endswith("of the monthly fee of 10,000.00 USD = 1,000.00 USD.")


def test_drafting_a_message_to_the_accounts_contacts(api_as, manager, impact):
    ContactFactory(account=impact.account)
    response = post(api_as(manager), f"/api/v1/impacts/{impact.pk}/message/")
    assert response.status_code == 201, response.content
    message = Message.objects.get()
    assert response.json() == {"message": message.pk, "url": f"/messages/{message.pk}/"}
    assert (message.audience, message.account, message.channels, message.state) == (
        "affected_accounts", impact.account, ["email"], "draft")
    assert message.headline == "What we are doing for Acme while we fix this"  # the subject carries the title


def test_drafting_a_message_needs_a_contact_and_the_owner(api_as, manager, other_manager, impact):
    response = post(api_as(manager), f"/api/v1/impacts/{impact.pk}/message/")
    assert response.status_code == 400
    assert response.json()["fields"] == {"account": ["Acme has no contacts to write to; add one first."]}
    ContactFactory(account=impact.account)
    assert post(api_as(other_manager), f"/api/v1/impacts/{impact.pk}/message/").status_code == 403
    assert not Message.objects.exists()


# --- Follow-ups ---------------------------------------------------------------------------------------

def test_a_manager_plans_and_completes_a_follow_up(api_as, manager, impact):
    client = api_as(manager)
    created = post(client, "/api/v1/follow-ups/", {"impact": impact.pk, "kind": "meeting",
                                                   "summary": "Review the outage with the CTO",
                                                   "due_at": "2090-01-01T10:00:00Z"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["owner"], body["created_by"], body["is_open"], body["is_overdue"]) == (manager.pk, manager.pk,
                                                                                       True, False)
    done = post(client, f"/api/v1/follow-ups/{body['id']}/complete/",
                {"outcome": "They accept a credit", "next_step": "Propose the credit"})
    assert done.status_code == 200
    assert (done.json()["is_open"], done.json()["outcome"]) == (False, "They accept a credit")


def test_completing_a_follow_up_twice_is_a_409_and_needs_an_outcome(api_as, manager, impact):
    planned = follow_up(impact, manager)
    client = api_as(manager)
    response = post(client, f"/api/v1/follow-ups/{planned.pk}/complete/", {"outcome": " "})
    assert response.json()["fields"] == {"outcome": ["Write what came of it, e.g. what the customer said."]}
    assert post(client, f"/api/v1/follow-ups/{planned.pk}/complete/", {"outcome": "Done"}).status_code == 200
    response = post(client, f"/api/v1/follow-ups/{planned.pk}/complete/", {"outcome": "Again"})
    assert (response.status_code, response.json()["message"]) == (409, "This follow-up is already done.")


def test_a_follow_up_is_for_an_account_manager_on_an_impact_they_work(api_as, manager, other_manager, support,
                                                                     impact):
    body = {"impact": impact.pk, "summary": "Call", "due_at": "2090-01-01T10:00:00Z"}
    response = post(api_as(manager), "/api/v1/follow-ups/", {**body, "owner": support.pk})
    assert response.json()["fields"] == {"owner": ["support is not an account manager."]}
    assert post(api_as(manager), "/api/v1/follow-ups/", {**body, "owner": other_manager.pk}).status_code == 201
    assert post(api_as(other_manager), "/api/v1/follow-ups/", body).status_code == 403  # not their impact
    assert post(api_as(manager), "/api/v1/follow-ups/", {**body, "done_at": "2090-01-01T10:00:00Z"}
                ).json()["fields"] == {"done_at": READ_ONLY}


def test_follow_ups_filter_by_open_overdue_and_impact(api_as, support, manager, impact):
    follow_up(impact, manager, "Late", due_in=-timedelta(hours=1))
    follow_up(impact, manager, "Later", due_in=timedelta(hours=1))
    services.complete_follow_up(follow_up(impact, manager, "Done"), actor=manager, outcome="ok")
    client = api_as(support)

    def summaries(query):
        return [row["summary"] for row in client.get(f"/api/v1/follow-ups/?{query}").json()["results"]]

    assert summaries("open=true") == ["Late", "Later"]
    assert summaries("open=false") == ["Done"]
    assert summaries("overdue=true") == ["Late"]
    assert summaries(f"impact={impact.pk}&owner={manager.pk}") == ["Late", "Later", "Done"]


def test_follow_ups_are_records_never_edited_or_deleted(api_as, manager, impact):
    planned = follow_up(impact, manager)
    client = api_as(manager)
    url = f"/api/v1/follow-ups/{planned.pk}/"
    assert [patch(client, url, {"summary": "x"}).status_code, client.put(url, {}, format="json").status_code,
            client.delete(url).status_code] == [405, 405, 405]


# --- Compensation -------------------------------------------------------------------------------------

def test_a_service_credit_records_the_sla_calculators_suggestion(api_as, manager, impact):
    Impact.objects.filter(pk=impact.pk).update(downtime_minutes=44)
    response = post(api_as(manager), "/api/v1/compensations/", {
        "impact": impact.pk, "kind": "service_credit", "amount": "1000.00", "reason": "44 minutes down"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["suggested_amount"], body["value"], body["state"], body["proposed_by"]) == (
        "1000.00", "1000.00", "proposed", manager.pk)
    assert body["suggestion"]["amount"] == "1000.00" and "99.9%" in body["suggestion"]["summary"]
    assert body["needs_lead_approval"] is True and body["currency"] == "USD"


def test_a_credit_other_than_the_suggestion_needs_an_override_reason(api_as, manager, impact):
    Impact.objects.filter(pk=impact.pk).update(downtime_minutes=44)
    body = {"impact": impact.pk, "kind": "service_credit", "amount": "1500.00", "reason": "Launch day"}
    response = post(api_as(manager), "/api/v1/compensations/", body)
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "override_reason": ["The SLA calculator suggests 1,000.00 USD; say why this credit differs."]}
    response = post(api_as(manager), "/api/v1/compensations/", {**body, "override_reason": "Their launch day"})
    assert response.status_code == 201


def test_a_discount_is_a_percentage_of_the_monthly_fee(api_as, manager, impact):
    client = api_as(manager)
    body = {"impact": impact.pk, "kind": "discount", "percentage": "15", "reason": "Goodwill"}
    assert post(client, "/api/v1/compensations/", body).json()["value"] == "1500.00"
    response = post(client, "/api/v1/compensations/", {**body, "amount": "10"})
    assert response.json()["fields"] == {"amount": ["Give either an amount or a percentage, not both."]}


@pytest.mark.parametrize("body", [{"kind": "gift", "amount": "-100"}, {"kind": "discount", "percentage": "-5"}])
def test_a_negative_compensation_is_a_400(api_as, manager, impact, body):
    response = post(api_as(manager), "/api/v1/compensations/", {"impact": impact.pk, "reason": "x", **body})
    assert response.status_code == 400
    field = "amount" if "amount" in body else "percentage"
    assert response.json()["fields"] == {field: ["Ensure this value is greater than or equal to 0."]}
    assert not Compensation.objects.exists()


def test_state_approved_by_and_proposed_by_cannot_be_sent(api_as, manager, lead, impact):
    response = post(api_as(manager), "/api/v1/compensations/", {
        "impact": impact.pk, "kind": "gift", "amount": "5000", "reason": "x", "approved_by": lead.pk,
        "state": "approved", "proposed_by": lead.pk})
    assert response.status_code == 400
    assert response.json()["fields"] == {"approved_by": READ_ONLY, "state": READ_ONLY, "proposed_by": READ_ONLY}
    assert not Compensation.objects.exists()


def test_a_manager_cannot_propose_compensation_on_another_managers_account(api_as, other_manager, impact):
    response = post(api_as(other_manager), "/api/v1/compensations/",
                    {"impact": impact.pk, "kind": "gift", "amount": "50", "reason": "x"})
    assert response.status_code == 403
    assert response.json()["message"] == "Only the owner of Acme or of this impact (or an admin) may work on it."


@pytest.mark.parametrize("amount", ["500", "20"])
def test_at_or_below_the_limit_the_owner_approves_their_own_proposal(api_as, manager, impact, amount):
    proposed = gift(impact, manager, amount)
    response = post(api_as(manager), f"/api/v1/compensations/{proposed.pk}/move/", {"state": "approved"})
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["approved_by"]) == ("approved", manager.pk)


def test_above_the_limit_a_communications_lead_approves(api_as, manager, lead, impact):
    proposed = gift(impact, manager, "501")
    response = post(api_as(manager), f"/api/v1/compensations/{proposed.pk}/move/", {"state": "approved"})
    assert response.status_code == 403
    assert response.json()["message"] == "Compensation worth more than 500 USD is approved by a communications lead."
    response = post(api_as(lead), f"/api/v1/compensations/{proposed.pk}/move/", {"state": "approved"})
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["approved_by"]) == ("approved", lead.pk)
    assert post(api_as(lead), f"/api/v1/compensations/{proposed.pk}/move/", {"state": "offered"}).status_code == 403


def test_the_proposer_cannot_approve_their_own_compensation_above_the_limit(api_as, other_lead, incident):
    both = UserFactory(username="lead-and-manager", role=COMMS_LEAD)
    both.groups.add(Group.objects.get(name=ACCOUNT_MANAGER))
    impact = ImpactFactory(incident=incident, account=AccountFactory(name="Hooli", owner=both))
    proposed = gift(impact, both, "2000")
    response = post(api_as(both), f"/api/v1/compensations/{proposed.pk}/move/", {"state": "approved"})
    assert response.status_code == 403
    assert response.json()["message"] == ("The person who proposed this compensation cannot approve it; ask another "
                                          "lead.")
    assert post(api_as(other_lead), f"/api/v1/compensations/{proposed.pk}/move/",
                {"state": "approved"}).status_code == 200


def test_a_second_gift_that_takes_the_impacts_sum_over_the_limit_is_a_403_for_the_owner(api_as, manager, lead, impact):
    services.move_compensation(gift(impact, manager, "500"), "approved", actor=manager)
    second = gift(impact, manager, "500")
    url = f"/api/v1/compensations/{second.pk}/move/"

    response = post(api_as(manager), url, {"state": "approved"})

    assert response.json() == {
        "status": 403, "code": "permission_denied",
        "message": "Compensation worth more than 500 USD is approved by a communications lead. With this one, Acme's "
                   "compensation for this incident comes to 1,000.00 USD.",
    }
    assert api_as(manager).get(url.replace("move/", "")).json()["needs_lead_approval"] is True
    assert post(api_as(lead), url, {"state": "approved"}).json()["approved_by"] == lead.pk


def test_offering_a_discount_whose_value_rose_above_the_limit_is_a_409_and_it_goes_back_to_proposed(
        api_as, manager, impact):
    services.save_account(impact.account, actor=manager, arr=Decimal(0))
    discount = services.propose_compensation(impact, actor=manager, kind="discount", percentage=Decimal(100),
                                             reason="A month free")
    services.move_compensation(discount, "approved", actor=manager)
    services.save_account(impact.account, actor=manager, arr=Decimal(120_000))
    client = api_as(manager)

    response = post(client, f"/api/v1/compensations/{discount.pk}/move/", {"state": "offered"})

    assert response.json() == {
        "status": 409, "code": "conflict",
        "message": "Discount 100% of the monthly fee was not offered: it is now worth 10,000.00 USD, was 0.00 USD "
                   "when approved. Compensation worth more than 500 USD is approved by a communications lead. It is "
                   "back to proposed until a lead approves it.",
    }
    body = client.get(f"/api/v1/compensations/{discount.pk}/").json()
    assert (body["state"], body["value"], body["approved_by"], body["needs_lead_approval"]) == (
        "proposed", "10000.00", None, True)


def test_a_compensation_move_the_state_does_not_allow_is_a_409(api_as, manager, impact):
    proposed = gift(impact, manager, "100")
    response = post(api_as(manager), f"/api/v1/compensations/{proposed.pk}/move/", {"state": "accepted"})
    assert response.status_code == 409
    assert response.json()["message"] == ("A compensation cannot move from proposed to accepted; from proposed it "
                                          "can move to: approved, withdrawn.")


def test_an_impact_with_unsettled_compensation_cannot_close_until_it_is_settled(api_as, manager, impact):
    proposed = gift(impact, manager, "100")
    client = api_as(manager)
    post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "contacted"})
    response = post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "closed"})
    assert (response.status_code, response.json()["message"]) == (
        409, "Acme cannot be closed yet: 1 compensation not settled (Gift 100.00 USD proposed).")
    for state in ("approved", "offered", "accepted"):
        assert post(client, f"/api/v1/compensations/{proposed.pk}/move/", {"state": state}).status_code == 200
    assert post(client, f"/api/v1/impacts/{impact.pk}/move/", {"state": "closed"}).json()["state"] == "closed"


def test_compensation_filters_by_state_and_impact(api_as, support, manager, impact):
    gift(impact, manager, "10")
    services.move_compensation(gift(impact, manager, "20"), "withdrawn", actor=manager)
    client = api_as(support)
    assert [r["amount"] for r in client.get("/api/v1/compensations/?state=withdrawn").json()["results"]] == ["20.00"]
    assert client.get(f"/api/v1/compensations/?impact={impact.pk}&state=proposed").json()["count"] == 1


# --- The incident and mentions ------------------------------------------------------------------------

def test_an_incident_cannot_close_while_its_top_impact_is_open(api_as, lead, manager, incident, impact):
    Incident.objects.filter(pk=incident.pk).update(status="resolved")
    lead_client = api_as(lead)
    response = patch(lead_client, f"/api/v1/incidents/{incident.pk}/", {"status": "closed"})
    assert response.status_code == 409
    assert response.json()["message"] == ("The incident cannot be closed yet: 1 of the top 1 affected accounts is "
                                          "still open: Acme (identified).")
    manager_client = api_as(manager)
    for state in ("contacted", "closed"):
        post(manager_client, f"/api/v1/impacts/{impact.pk}/move/", {"state": state})
    response = patch(api_as(lead), f"/api/v1/incidents/{incident.pk}/", {"status": "closed"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"


def test_mentions_name_their_account_and_filter_by_it(api_as, support, account, foreign):
    mention("acme checkout is down", account=account)
    mention("no account")
    client = api_as(support)
    rows = client.get(f"/api/v1/mentions/?account={account.pk}").json()["results"]
    assert [(row["account"], row["account_name"]) for row in rows] == [(account.pk, "Acme")]
    assert client.get(f"/api/v1/mentions/?account={foreign.pk}").json()["count"] == 0
    assert {row["account_name"] for row in client.get("/api/v1/mentions/").json()["results"]} == {"Acme", None}


def test_the_schema_documents_the_accounts_endpoints(api_as, support):
    schema = api_as(support).get("/api/schema/?format=json").json()
    for path in ("/api/v1/accounts/", "/api/v1/incidents/{incident_pk}/impacts/", "/api/v1/impacts/{id}/move/",
                 "/api/v1/impacts/{id}/sla-credit/", "/api/v1/compensations/{id}/move/",
                 "/api/v1/follow-ups/{id}/complete/"):
        assert path in schema["paths"], path
    description = schema["paths"]["/api/v1/compensations/"]["get"]["description"]
    assert description.startswith("Service credits, discounts and gifts for affected accounts.")
