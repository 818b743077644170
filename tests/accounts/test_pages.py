"""The customer account pages: who sees what, who may change what, the impact flow worked through the pages,
the follow-up board, the incident's top affected accounts, and an account's timeline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Account, AccountEvent, Compensation, Contact, FollowUp, Impact
from comms import messaging
from comms.models import Message
from sentiment.models import Mention
from tests.factories import AccountFactory, ComponentFactory, ContactFactory, ImpactFactory, IncidentFactory

pytestmark = pytest.mark.django_db

ROLES = ["lead", "manager", "support", "admin"]


@pytest.fixture
def incident():
    return IncidentFactory(title="Payments down", severity="SEV1")


@pytest.fixture
def own_account(manager):
    return AccountFactory(name="Acme", owner=manager, arr=48_000)


@pytest.fixture
def impact(incident, own_account):
    return ImpactFactory(incident=incident, account=own_account, downtime_minutes=120)


@pytest.fixture
def others_impact(incident, users):
    from core.roles import ACCOUNT_MANAGER
    from tests.factories import UserFactory

    other = UserFactory(username="other-manager", role=ACCOUNT_MANAGER)
    return ImpactFactory(incident=incident, account=AccountFactory(name="Globex", owner=other))


def page_urls(impact):
    return [
        reverse("accounts"),
        reverse("account-detail", args=[impact.account.pk]),
        reverse("account-export"),
        reverse("board"),
        reverse("impact-detail", args=[impact.pk]),
        impact.incident.get_absolute_url(),
    ]


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Who sees what -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_account_page_renders_for_each_role(client, users, impact, role):
    client.force_login(users[role])
    for url in page_urls(impact):
        response = client.get(url)
        assert response.status_code == 200, url


def test_roleless_users_are_refused_every_account_page(client, roleless, impact):
    client.force_login(roleless)
    urls = [*page_urls(impact)[:-1], reverse("account-import"), reverse("account-create"),
            reverse("account-update", args=[impact.account.pk])]
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in_from_every_account_page(client, impact):
    for url in [*page_urls(impact), reverse("account-import"), reverse("account-create")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"/login/?next={url}")


def test_the_accounts_link_leads_to_the_account_list_and_the_board_is_next_to_it(client, manager):
    client.force_login(manager)
    page = client.get("/").content.decode()
    assert f'href="{reverse("accounts")}"' in page
    assert page.index(">Accounts<") < page.index(">Board<")
    assert "Coming soon" not in client.get("/accounts/").content.decode()


@pytest.mark.parametrize(("role", "sees_import"), [("admin", True), ("lead", False), ("manager", False),
                                                   ("support", False)])
def test_only_those_allowed_to_import_see_the_import_link_and_page(client, users, role, sees_import):
    client.force_login(users[role])
    assert ('href="/accounts/import/"' in client.get("/accounts/").content.decode()) is sees_import
    assert client.get("/accounts/import/").status_code == (200 if sees_import else 403)


# --- The account list --------------------------------------------------------------------------------

def test_the_account_list_searches_by_name_and_filters_by_tier_and_my_accounts(client, manager, lead):
    AccountFactory(name="Acme Rockets", tier="strategic", owner=manager)
    AccountFactory(name="Acme Anvils", tier="growth", owner=lead)
    AccountFactory(name="Initech", tier="strategic", owner=manager)
    client.force_login(manager)

    def names(query):
        return [account.name for account in client.get("/accounts/", query).context["page"]]

    assert names({"q": "acme"}) == ["Acme Anvils", "Acme Rockets"]
    assert names({"tier": "strategic"}) == ["Acme Rockets", "Initech"]
    assert names({"owner": "mine", "q": "acme"}) == ["Acme Rockets"]


def test_the_account_list_shows_the_columns_and_counts_only_open_impacts(client, support, manager, incident):
    account = AccountFactory(name="Acme", tier="enterprise", arr=1_250_000, currency="EUR", owner=manager,
                             renewal_date="2027-03-31")
    ImpactFactory(account=account, incident=incident)
    ImpactFactory(account=account, state="closed")
    client.force_login(support)
    row = client.get("/accounts/").content.decode().split("Acme</a>")[1].split("</tr>")[0]
    assert "Enterprise" in row and "1,250,000 EUR" in row and "2027-03-31" in row and "manager" in row
    assert '<td class="num"><strong>1</strong></td>' in row


def test_the_account_list_is_paginated_by_fifty(client, support):
    Account.objects.bulk_create(Account(name=f"Customer {n:03d}") for n in range(51))
    client.force_login(support)
    page = client.get("/accounts/").content.decode()
    assert "Customer 049" in page and "Customer 050" not in page and "Page 1 of 2" in page
    assert "Customer 050" in client.get("/accounts/?page=2").content.decode()


# --- Export and import -------------------------------------------------------------------------------

def test_the_export_is_a_csv_of_the_filtered_accounts_with_one_header_row(client, support, monkeypatch):
    from accounts.views import accounts as account_views

    monkeypatch.setattr(account_views, "EXPORT_CHUNK", 2)  # several chunks, so the header must be dropped twice
    for name in ["Acme", "Apex", "Axis", "Bolt", "Arc"]:
        AccountFactory(name=name, tier="growth" if name != "Bolt" else "strategic")
    client.force_login(support)
    response = client.get("/accounts/export.csv", {"tier": "growth"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("name,tier,arr")
    assert [line.split(",")[0] for line in lines[1:]] == ["Acme", "Apex", "Arc", "Axis"]


def test_an_admin_imports_a_csv_and_sees_what_was_created_and_updated(client, admin_user):
    AccountFactory(name="Acme", tier="growth")
    client.force_login(admin_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("accounts.csv", b"name,tier,arr\nAcme,strategic,100000\nNewco,growth,5000\n")
    response = client.post("/accounts/import/", {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.updated, report.committed) == (1, 1, True)
    assert Account.objects.get(name="Acme").tier == "strategic"
    assert "1 accounts created, 1 updated" in response.content.decode()


def test_an_import_with_a_bad_line_saves_nothing_and_lists_the_line_unless_asked_to_keep_the_valid_rows(
        client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = b"name,tier,arr\nGood one,growth,10\nBad one,platinum,10\n"
    client.force_login(admin_user)
    page = client.post("/accounts/import/", {"file": SimpleUploadedFile("a.csv", csv)}).content.decode()
    assert not Account.objects.filter(name="Good one").exists()
    table = page.split('class="list import-errors"')[1]
    assert ">3</td>" in table and "unknown tier" in table
    assert "Nothing was imported" in page

    client.post("/accounts/import/", {"file": SimpleUploadedFile("a.csv", csv), "partial": "on"})
    assert Account.objects.filter(name="Good one").exists() and not Account.objects.filter(name="Bad one").exists()


def test_a_file_that_is_not_a_csv_of_accounts_is_explained_on_the_form(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    response = client.post("/accounts/import/", {"file": SimpleUploadedFile("a.csv", b"colour\nred\n")})
    assert response.status_code == 200
    assert "The first line must name the columns" in response.content.decode()
    latin = SimpleUploadedFile("a.csv", "name\nMüller\n".encode("latin-1"))
    response = client.post("/accounts/import/", {"file": latin})
    assert "not UTF-8" in response.content.decode()


def test_a_post_to_the_import_is_refused_without_the_import_permission(client, manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(manager)
    response = client.post("/accounts/import/", {"file": SimpleUploadedFile("a.csv", b"name\nSneaky\n")})
    assert response.status_code == 403
    assert not Account.objects.filter(name="Sneaky").exists()


# --- Creating and editing accounts -------------------------------------------------------------------

def account_data(**changes):
    data = {"name": "Acme", "tier": "enterprise", "arr": "250000", "currency": "eur", "renewal_date": "2027-01-31",
            "owner": "", "email_domains": "acme.com, Acme.io", "social_handles": "@AcmeHQ", "notes": "Big one"}
    return {**data, **changes}


def test_a_manager_edits_their_own_account_but_gets_403_on_another(client, manager, own_account, others_impact):
    component = ComponentFactory(name="API")
    client.force_login(manager)
    assert client.get(reverse("account-update", args=[own_account.pk])).status_code == 200
    response = client.post(reverse("account-update", args=[own_account.pk]),
                           account_data(owner=manager.pk, components=[component.pk]))
    assert response.status_code == 302
    own_account.refresh_from_db()
    assert (own_account.tier, own_account.currency, own_account.arr) == ("enterprise", "EUR", Decimal("250000"))
    assert [d.domain for d in own_account.email_domains.all()] == ["acme.com", "acme.io"]
    assert [h.handle for h in own_account.social_handles.all()] == ["acmehq"]
    assert list(own_account.components.all()) == [component]
    assert AccountEvent.objects.filter(account=own_account, kind="edited").exists()

    other = others_impact.account
    assert client.get(reverse("account-update", args=[other.pk])).status_code == 403
    assert client.post(reverse("account-update", args=[other.pk]), account_data(name="Taken over")).status_code == 403
    other.refresh_from_db()
    assert other.name == "Globex"


@pytest.mark.parametrize("role", ["lead", "support"])
def test_leads_and_support_may_not_add_or_edit_accounts(client, users, own_account, role):
    client.force_login(users[role])
    assert client.get(reverse("account-create")).status_code == 403
    assert client.post(reverse("account-create"), account_data(name="New")).status_code == 403
    assert client.get(reverse("account-update", args=[own_account.pk])).status_code == 403
    assert not Account.objects.filter(name="New").exists()
    assert 'href="/accounts/new/"' not in client.get("/accounts/").content.decode()


def test_a_new_account_made_by_a_manager_is_theirs(client, manager):
    client.force_login(manager)
    response = client.post(reverse("account-create"), account_data(name="Newco"))
    account = Account.objects.get(name="Newco")
    assert response["Location"] == account.get_absolute_url()
    assert account.owner == manager


def test_the_services_refusals_come_back_as_form_errors(client, manager, own_account):
    AccountFactory(name="Globex").email_domains.create(domain="globex.com")
    client.force_login(manager)
    response = client.post(reverse("account-update", args=[own_account.pk]),
                           account_data(email_domains="globex.com, not a domain"))
    assert response.status_code == 200
    errors = response.context["form"].errors["email_domains"]
    assert "Not an email domain" in " ".join(errors)


# --- An account's page -------------------------------------------------------------------------------

def test_the_account_page_shows_the_facts_contacts_and_impacts(client, support, impact):
    account = impact.account
    account.email_domains.create(domain="acme.com")
    account.social_handles.create(handle="acmehq")
    ContactFactory(account=account, name="Ada Lovelace", email="ada@acme.com", is_primary=True)
    client.force_login(support)
    page = client.get(account.get_absolute_url()).content.decode()
    assert "48,000 USD" in page and "acme.com" in page and "@acmehq" in page and "Ada Lovelace" in page
    assert impact.get_absolute_url() in page and "Payments down" in page
    assert "Edit account" not in page and "Add a contact" not in page


def test_the_account_timeline_shows_an_event_a_targeted_message_and_a_mention_newest_first(
        client, support, manager, impact):
    account, incident = impact.account, impact.incident
    services.record(account, "edited", "renewal discussed with the CFO", manager)
    messaging.create_message(incident=incident, author=manager, account=account, audience="affected_accounts",
                             channels=["email"], headline="What happened to Acme")
    messaging.create_message(incident=incident, author=manager, audience="affected_accounts", channels=["email"],
                             headline="To every affected account")
    messaging.create_message(incident=incident, author=manager, account=AccountFactory(name="Other"),
                             audience="affected_accounts", channels=["email"], headline="Not for Acme")
    messaging.create_message(incident=IncidentFactory(), author=manager, audience="affected_accounts",
                             channels=["email"], headline="Another incident's accounts")
    mention = Mention.objects.create(source="api", external_id="m1", text="Acme is down again", label="negative",
                                     compound=-0.7, posted_at=timezone.now() + timedelta(minutes=5), account=account)
    client.force_login(support)
    timeline = client.get(account.get_absolute_url()).content.decode().split('id="timeline"')[1]
    assert "renewal discussed with the CFO" in timeline
    assert "What happened to Acme" in timeline and "To every affected account" in timeline
    assert "Not for Acme" not in timeline and "Another incident" not in timeline
    assert reverse("mention-detail", args=[mention.pk]) in timeline and "-0.70" in timeline
    assert timeline.index("Acme is down again") < timeline.index("renewal discussed")  # newest first


def test_the_account_page_queries_do_not_grow_with_its_history(client, support, manager, impact):
    account = impact.account
    client.force_login(support)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(account.get_absolute_url()).status_code == 200
        return len(captured)

    before = queries()
    for n in range(10):
        services.record(account, "edited", f"note {n}", manager)
        ContactFactory(account=account)
        Mention.objects.create(source="api", external_id=f"q{n}", text="hm", posted_at=timezone.now(), account=account)
        messaging.create_message(incident=impact.incident, author=manager, account=account,
                                 audience="affected_accounts", channels=["email"], headline=f"m{n}")
        ImpactFactory(account=account)
    assert queries() == before


def test_html_in_account_names_and_notes_is_escaped(client, manager):
    account = AccountFactory(name="<b>Evil & co</b>", notes="<script>alert(1)</script>", owner=manager)
    impact = ImpactFactory(account=account)
    client.force_login(manager)
    for url in ["/accounts/", account.get_absolute_url(), "/board/", impact.get_absolute_url(),
                impact.incident.get_absolute_url()]:
        page = client.get(url).content.decode()
        assert "<b>Evil" not in page, url
        assert "&lt;b&gt;Evil &amp; co&lt;/b&gt;" in page, url
    page = client.get(account.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_account_page_shows_a_manager_only_mentions_they_may_read(client, manager, other_manager):
    theirs = AccountFactory(name="Theirs", owner=other_manager)
    Mention.objects.create(source="api", external_id="m1", text="secret complaint from their CTO",
                           posted_at=timezone.now(), account=theirs)

    client.force_login(manager)
    hidden = client.get(f"/accounts/{theirs.pk}/").content.decode()
    client.force_login(other_manager)
    shown = client.get(f"/accounts/{theirs.pk}/").content.decode()

    assert "secret complaint" not in hidden and "secret complaint" in shown


# --- Contacts ----------------------------------------------------------------------------------------

def test_the_owner_adds_edits_and_removes_a_contact(client, manager, own_account):
    client.force_login(manager)
    url = own_account.get_absolute_url()
    client.post(reverse("contact-create", args=[own_account.pk]),
                {"new-contact-name": "Ada", "new-contact-email": "ADA@acme.com", "new-contact-is_primary": "on"})
    contact = Contact.objects.get(account=own_account)
    assert (contact.email, contact.is_primary) == ("ada@acme.com", True)
    prefix = f"contact-{contact.pk}"
    client.post(reverse("contact-update", args=[contact.pk]),
                {f"{prefix}-name": "Ada Lovelace", f"{prefix}-email": "ada@acme.com", f"{prefix}-role": "CTO"})
    contact.refresh_from_db()
    assert (contact.name, contact.role, contact.is_primary) == ("Ada Lovelace", "CTO", False)
    assert "Add a contact" in client.get(url).content.decode()
    client.post(reverse("contact-delete", args=[contact.pk]))
    assert not Contact.objects.filter(account=own_account).exists()


def test_a_duplicate_contact_email_comes_back_as_a_form_error(client, manager, own_account):
    ContactFactory(account=own_account, email="ada@acme.com")
    client.force_login(manager)
    response = client.post(reverse("contact-create", args=[own_account.pk]),
                           {"new-contact-name": "Ada again", "new-contact-email": "ada@acme.com"})
    assert response.status_code == 200
    assert "already has a contact with ada@acme.com" in " ".join(response.context["contact_form"].errors["email"])


def test_a_manager_may_not_change_the_contacts_of_another_managers_account(client, manager, others_impact):
    contact = ContactFactory(account=others_impact.account, name="Hank")
    client.force_login(manager)
    response = client.post(reverse("contact-delete", args=[contact.pk]), follow=True)
    assert "Only the owner of Globex" in " ".join(flashes(response))
    response = client.post(reverse("contact-create", args=[others_impact.account.pk]),
                           {"new-contact-name": "Spy", "new-contact-email": "spy@example.com"}, follow=True)
    assert "Only the owner of Globex" in " ".join(flashes(response))
    assert list(others_impact.account.contacts.all()) == [contact]


def test_support_may_not_post_to_the_contact_forms(client, support, own_account):
    client.force_login(support)
    response = client.post(reverse("contact-create", args=[own_account.pk]),
                           {"new-contact-name": "Ada", "new-contact-email": "ada@acme.com"})
    assert response.status_code == 403
    assert not own_account.contacts.exists()


# --- An impact's page --------------------------------------------------------------------------------

def test_the_impact_page_explains_the_score_part_by_part(client, support, impact):
    client.force_login(support)
    response = client.get(impact.get_absolute_url())
    page = response.content.decode()
    table = page.split('class="list score-parts"')[1].split("</table>")[0]
    for label in ["Revenue", "Tier", "Impact level", "Downtime", "SLA breached", "Negative mentions", "Renewal soon"]:
        assert f"<td>{label}</td>" in table
    assert "48,000 USD a year" in table and "120 minutes" in table
    assert "SLA calculator:" in page and "= 400.00 USD" in page


def test_support_sees_the_impact_read_only_and_a_post_from_support_is_refused(client, support, impact):
    client.force_login(support)
    page = client.get(impact.get_absolute_url()).content.decode()
    assert "Read only" in page
    for action in ["impact-move", "impact-update", "follow-up-create", "compensation-create", "impact-message"]:
        assert reverse(action, args=[impact.pk]) not in page, action
    follow_up = FollowUp.objects.create(impact=impact, summary="Call", owner=impact.owner,
                                        due_at=timezone.now())
    posts = [(reverse("impact-move", args=[impact.pk]), {"state": "contacted"}),
             (reverse("impact-update", args=[impact.pk]), {"level": "minor", "downtime_minutes": "1"}),
             (reverse("follow-up-create", args=[impact.pk]), {"summary": "x", "due_at": "2030-01-01T10:00"}),
             (reverse("follow-up-complete", args=[follow_up.pk]), {"outcome": "done"}),
             (reverse("compensation-create", args=[impact.pk]), {"kind": "gift", "amount": "5", "reason": "x"}),
             (reverse("impact-message", args=[impact.pk]), {})]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    impact.refresh_from_db()
    follow_up.refresh_from_db()
    assert impact.state == "identified" and impact.level == "major" and follow_up.done_at is None
    assert not impact.compensations.exists() and not Message.objects.exists()


def test_a_manager_sees_another_managers_impact_read_only_and_their_move_is_refused_with_a_message(
        client, manager, others_impact):
    client.force_login(manager)
    assert "Read only" in client.get(others_impact.get_absolute_url()).content.decode()
    response = client.post(reverse("impact-move", args=[others_impact.pk]), {"state": "contacted"}, follow=True)
    assert response.status_code == 200
    assert "Only the owner of Globex or of this impact" in " ".join(flashes(response))
    others_impact.refresh_from_db()
    assert others_impact.state == "identified"


def test_the_manager_a_follow_up_was_given_to_records_its_outcome_on_an_impact_they_only_read(
        client, manager, others_impact):
    follow_up = FollowUp.objects.create(impact=others_impact, summary="Call Hank", owner=manager,
                                        due_at=timezone.now())
    other = FollowUp.objects.create(impact=others_impact, summary="Not mine", owner=others_impact.owner,
                                    due_at=timezone.now())
    client.force_login(manager)
    page = client.get(others_impact.get_absolute_url()).content.decode()
    assert "Read only" in page
    assert reverse("follow-up-complete", args=[follow_up.pk]) in page
    assert reverse("follow-up-complete", args=[other.pk]) not in page
    response = client.post(reverse("follow-up-complete", args=[follow_up.pk]), {"outcome": " "})
    assert response.status_code == 200 and "outcome" in response.context["open_follow_ups"][0].form.errors
    client.post(reverse("follow-up-complete", args=[follow_up.pk]), {"outcome": "Hank is happy"})
    follow_up.refresh_from_db()
    assert follow_up.outcome == "Hank is happy"


def test_the_full_impact_flow_through_the_pages(client, manager, impact):
    client.force_login(manager)
    page_url = impact.get_absolute_url()
    move = reverse("impact-move", args=[impact.pk])

    response = client.post(move, {"state": "contacted", "note": "called their CTO"}, follow=True)
    assert "Acme is now contacted." in flashes(response)

    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("follow-up-create", args=[impact.pk]),
                {"kind": "call", "summary": "Call the CTO about the credit", "due_at": due})
    follow_up = FollowUp.objects.get(impact=impact)
    assert (follow_up.owner, follow_up.kind) == (impact.owner, "call")

    response = client.post(move, {"state": "closed"}, follow=True)
    assert ("Acme cannot be closed yet: 1 follow-up still open (Call the CTO about the credit)."
            in flashes(response))
    impact.refresh_from_db()
    assert impact.state == "contacted"

    client.post(reverse("follow-up-complete", args=[follow_up.pk]), {"outcome": "They want a credit"})
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None and follow_up.outcome == "They want a credit"

    form = client.get(page_url).context["compensation_form"]
    assert form.initial["amount"] == Decimal("400.00")  # 120 minutes down: 10% of the 4,000 monthly fee
    client.post(reverse("compensation-create", args=[impact.pk]),
                {"kind": "service_credit", "amount": "400.00", "reason": "Two hours down during their launch"})
    compensation = Compensation.objects.get(impact=impact)
    assert (compensation.state, compensation.suggested_amount) == ("proposed", Decimal("400.00"))

    for state in ["approved", "offered", "accepted", "applied"]:
        response = client.post(reverse("compensation-move", args=[compensation.pk]), {"state": state}, follow=True)
        compensation.refresh_from_db()
        assert compensation.state == state, flashes(response)
    assert compensation.approved_by == manager  # under the limit, the owner approves

    response = client.post(move, {"state": "closed"}, follow=True)
    impact.refresh_from_db()
    assert impact.state == "closed" and impact.closed_at is not None
    assert "Acme is now closed." in flashes(response)
    timeline = [event.description for event in AccountEvent.objects.filter(impact=impact).order_by("at", "pk")]
    assert timeline[0] == "moved to contacted: called their CTO" and timeline[-1] == "moved to closed"


def test_reopening_a_closed_impact_needs_a_note(client, manager, impact):
    Impact.objects.filter(pk=impact.pk).update(state="closed", closed_at=timezone.now())
    client.force_login(manager)
    page = client.get(impact.get_absolute_url()).content.decode()
    assert "Reopen as follow-up" in page and 'name="note" maxlength="300" required' in page
    move = reverse("impact-move", args=[impact.pk])

    response = client.post(move, {"state": "follow_up", "note": "  "}, follow=True)
    assert "Say why the impact is reopened." in flashes(response)
    impact.refresh_from_db()
    assert impact.state == "closed"

    client.post(move, {"state": "follow_up", "note": "They reported it again"})
    impact.refresh_from_db()
    assert impact.state == "follow_up" and impact.closed_at is None


def test_a_credit_other_than_the_suggestion_needs_an_override_reason_shown_on_the_form(client, manager, impact):
    client.force_login(manager)
    url = reverse("compensation-create", args=[impact.pk])
    response = client.post(url, {"kind": "service_credit", "amount": "450", "reason": "Launch day"})
    assert response.status_code == 200
    assert "The SLA calculator suggests 400.00 USD" in " ".join(
        response.context["compensation_form"].errors["override_reason"])
    assert not Compensation.objects.exists()
    client.post(url, {"kind": "service_credit", "amount": "450", "reason": "Launch day",
                      "override_reason": "Their launch was ruined"})
    assert Compensation.objects.get().amount == Decimal("450")


def test_compensation_above_the_limit_is_approved_by_a_lead_from_the_read_only_page(client, manager, lead, impact):
    compensation = services.propose_compensation(impact, actor=manager, kind="gift", amount=Decimal("900"),
                                                 reason="A big gesture")
    client.force_login(manager)
    page = client.get(impact.get_absolute_url()).content.decode()
    assert ">Approve</button>" not in page and "a communications lead who did not propose it approves" in page
    response = client.post(reverse("compensation-move", args=[compensation.pk]), {"state": "approved"}, follow=True)
    assert "approved by a communications lead" in " ".join(flashes(response))

    client.force_login(lead)
    page = client.get(impact.get_absolute_url()).content.decode()
    assert "Read only" in page and ">Approve</button>" in page and "Withdraw" not in page
    client.post(reverse("compensation-move", args=[compensation.pk]), {"state": "approved"})
    compensation.refresh_from_db()
    assert (compensation.state, compensation.approved_by) == ("approved", lead)


def test_an_offer_refused_because_the_discount_rose_is_shown_and_the_page_then_asks_for_a_lead(client, manager,
                                                                                                  impact):
    services.save_account(impact.account, actor=manager, arr=Decimal(0))
    discount = services.propose_compensation(impact, actor=manager, kind="discount", percentage=Decimal(100),
                                             reason="A month free")
    services.move_compensation(discount, "approved", actor=manager)
    services.save_account(impact.account, actor=manager, arr=Decimal(48_000))
    client.force_login(manager)

    response = client.post(reverse("compensation-move", args=[discount.pk]), {"state": "offered"}, follow=True)

    assert flashes(response) == [
        "Discount 100% of the monthly fee was not offered: it is now worth 4,000.00 USD, was 0.00 USD when approved. "
        "Compensation worth more than 500 USD is approved by a communications lead. It is back to proposed until a "
        "lead approves it."
    ]
    page = response.content.decode()
    assert ">Approve</button>" not in page and ">Mark offered</button>" not in page
    assert "Above 500 USD: a communications lead who did not propose it approves." in page


def test_the_page_says_when_the_impacts_other_compensation_puts_a_small_gift_above_the_limit(client, manager,
                                                                                              impact):
    first = services.propose_compensation(impact, actor=manager, kind="gift", amount=Decimal("450"), reason="Launch")
    services.move_compensation(first, "approved", actor=manager)
    services.propose_compensation(impact, actor=manager, kind="gift", amount=Decimal("100"), reason="And a mug")
    client.force_login(manager)

    page = client.get(impact.get_absolute_url()).content.decode()

    assert ">Approve</button>" not in page
    assert ("Above 500 USD with the impact's other compensation: a communications lead who did not propose it "
            "approves.") in page


def test_editing_the_impact_changes_only_what_changed_and_a_bad_value_is_shown_on_the_form(client, manager, impact):
    client.force_login(manager)
    url = reverse("impact-update", args=[impact.pk])
    data = {"level": "critical", "downtime_minutes": "180", "sla_breached": "on", "affected_users": "",
            "affected_share": "", "owner": manager.pk}
    client.post(url, data)
    impact.refresh_from_db()
    assert (impact.level, impact.downtime_minutes, impact.sla_breached) == ("critical", 180, True)
    assert AccountEvent.objects.filter(impact=impact, description__startswith="impact edited").count() == 1

    response = client.post(url, {**data, "affected_share": "140"})
    assert response.status_code == 200 and "affected_share" in response.context["edit_form"].errors


def test_drafting_a_message_opens_the_targeted_draft(client, manager, impact):
    client.force_login(manager)
    url = reverse("impact-message", args=[impact.pk])
    response = client.post(url, follow=True)
    assert "has no contacts to write to" in " ".join(flashes(response))
    assert not Message.objects.exists()

    ContactFactory(account=impact.account)
    response = client.post(url)
    message = Message.objects.get()
    assert response["Location"] == reverse("message-update", args=[message.pk])
    assert (message.account, message.audience) == (impact.account, "affected_accounts")


# --- The board ---------------------------------------------------------------------------------------

def board_impacts(manager, start, stop):
    """Open impacts of the manager's accounts spread over the four states, every other one overdue."""
    states = ["identified", "contacted", "follow_up", "compensation"]
    impacts = []
    for n in range(start, stop):
        impact = ImpactFactory(account=AccountFactory(name=f"Board {n:02d}", owner=manager), state=states[n % 4])
        due = timezone.now() + (timedelta(hours=-1) if n % 2 else timedelta(hours=5))
        FollowUp.objects.create(impact=impact, summary=f"Call {n}", owner=manager, due_at=due)
        impacts.append(impact)
    return impacts


def test_the_board_groups_my_open_impacts_by_state_and_leaves_out_others_and_closed_ones(
        client, manager, impact, others_impact):
    ImpactFactory(account=AccountFactory(name="Done deal", owner=manager), state="closed")
    contacted = ImpactFactory(account=AccountFactory(name="Initech", owner=manager), state="contacted")
    client.force_login(manager)
    columns = {column["state"]: [i.account.name for i in column["impacts"]]
               for column in client.get("/board/").context["columns"]}
    assert columns == {"identified": ["Acme"], "contacted": ["Initech"], "follow_up": [], "compensation": []}
    page = client.get("/board/").content.decode()
    assert contacted.get_absolute_url() in page and "Globex" not in page and "Done deal" not in page


def test_the_board_shows_overdue_impacts_first_then_by_score(client, manager):
    big_late = ImpactFactory(account=AccountFactory(name="Big late", owner=manager, arr=5_000_000, tier="strategic"))
    small_late = ImpactFactory(account=AccountFactory(name="Small late", owner=manager, arr=1_000, tier="self_serve"))
    huge = ImpactFactory(account=AccountFactory(name="Huge on time", owner=manager, arr=9_000_000, tier="strategic"),
                         level="critical")
    for impact, hours in [(big_late, -2), (small_late, -1), (huge, 3)]:
        due = timezone.now() + timedelta(hours=hours)
        FollowUp.objects.create(impact=impact, summary="Call", owner=manager, due_at=due)
    client.force_login(manager)
    response = client.get("/board/")
    column = response.context["columns"][0]
    assert [i.account.name for i in column["impacts"]] == ["Big late", "Small late", "Huge on time"]
    assert column["overdue"] == 2
    page = response.content.decode()
    assert page.count('class="board-card is-overdue"') == 2


def test_the_board_query_count_does_not_grow_with_the_impacts(client, manager):
    client.force_login(manager)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/board/").status_code == 200
        return len(captured)

    board_impacts(manager, 0, 2)
    two = queries()
    board_impacts(manager, 2, 20)
    assert Impact.objects.open().count() == 20
    assert queries() == two


def test_the_board_filters_by_incident_and_tier_and_leads_may_see_anyone(client, manager, lead, support, impact,
                                                                          others_impact):
    ImpactFactory(account=AccountFactory(name="Elsewhere", owner=manager, tier="strategic"))
    client.force_login(manager)

    def names(query):
        return sorted(i.account.name for c in client.get("/board/", query).context["columns"] for i in c["impacts"])

    assert names({}) == ["Acme", "Elsewhere"]
    assert names({"incident": impact.incident.pk}) == ["Acme"]
    assert names({"tier": "strategic"}) == ["Elsewhere"]
    assert names({"owner": "anyone", "incident": impact.incident.pk}) == ["Acme", "Globex"]

    client.force_login(lead)
    assert names({}) == []
    assert names({"owner": "anyone"}) == ["Acme", "Elsewhere", "Globex"]
    assert names({"owner": str(manager.pk)}) == ["Acme", "Elsewhere"]

    client.force_login(support)  # support reads the board but only for themselves
    assert names({"owner": "anyone"}) == []


def test_an_impact_is_on_the_board_of_its_owner_and_of_its_accounts_owner(client, manager, others_impact):
    client.force_login(manager)
    assert "Globex" not in client.get("/board/").content.decode()
    Impact.objects.filter(pk=others_impact.pk).update(owner=manager)
    assert "Globex" in client.get("/board/").content.decode()
    client.force_login(others_impact.account.owner)
    assert "Globex" in client.get("/board/").content.decode()


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "0", "abc"])
def test_a_bad_per_column_on_the_board_falls_back_to_the_default(client, manager, value):
    client.force_login(manager)

    assert client.get("/board/", {"per_column": value}).status_code == 200


# --- The incident page -------------------------------------------------------------------------------

def test_the_incident_page_lists_the_top_affected_accounts_by_score(client, support, incident, settings):
    settings.IMPACT_TOP_N = 2
    ImpactFactory(incident=incident, account=AccountFactory(name="Alpha tiny", tier="self_serve", arr=1_000),
                  level="minor")
    ImpactFactory(incident=incident, account=AccountFactory(name="Rich but minor", tier="growth", arr=900_000),
                  level="minor")
    critical = ImpactFactory(incident=incident, level="critical", downtime_minutes=240, sla_breached=True,
                             account=AccountFactory(name="Critical small", tier="strategic", arr=50_000))
    client.force_login(support)
    panel = client.get(incident.get_absolute_url()).content.decode().split('id="accounts"')[1].split("</section>")[0]
    assert "3 affected accounts, 3 open" in panel
    assert panel.index("Critical small") < panel.index("Rich but minor")  # by score, not by revenue or name
    assert "Alpha tiny" not in panel  # below the top 2
    assert critical.get_absolute_url() in panel
    assert "Add an affected account" not in panel  # support only reads


def test_a_lead_adds_an_affected_account_from_the_incident_page(client, lead, incident):
    account = AccountFactory(name="Acme")
    client.force_login(lead)
    panel = client.get(incident.get_absolute_url()).content.decode().split('id="accounts"')[1]
    assert f'<option value="{account.pk}">Acme</option>' in panel
    url = reverse("incident-impact-add", args=[incident.pk])
    response = client.post(url, {"account": account.pk, "level": "critical"})
    assert response["Location"] == f"{incident.get_absolute_url()}#accounts"
    impact = Impact.objects.get(incident=incident)
    assert (impact.account, impact.level, impact.source) == (account, "critical", "manual")

    response = client.post(url, {"account": account.pk, "level": "major"}, follow=True)
    assert "Acme is already recorded as affected by this incident." in flashes(response)


def test_with_many_accounts_the_incident_page_asks_for_the_exact_name(client, lead, incident, monkeypatch):
    from accounts import forms
    from accounts.views import impacts as impact_views

    monkeypatch.setattr(impact_views, "MANY_ACCOUNTS", 2)
    monkeypatch.setattr(forms, "MANY_ACCOUNTS", 2)
    for name in ["Acme", "Globex", "Initech"]:
        AccountFactory(name=name)
    client.force_login(lead)
    panel = client.get(incident.get_absolute_url()).content.decode().split('id="accounts"')[1]
    assert 'name="account_name"' in panel and "<option value" not in panel.split("add-impact-level")[0]
    client.post(reverse("incident-impact-add", args=[incident.pk]), {"account_name": "globex", "level": "minor"})
    assert Impact.objects.get(incident=incident).account.name == "Globex"
    response = client.post(reverse("incident-impact-add", args=[incident.pk]), {"account_name": "Nope"}, follow=True)
    assert "No account is called “Nope”." in " ".join(flashes(response))


def test_affected_accounts_are_found_from_the_incidents_components(client, lead, support, incident):
    api = ComponentFactory(name="API")
    incident.components.add(api)
    for name in ["Acme", "Globex"]:
        AccountFactory(name=name).components.add(api)
    AccountFactory(name="Unaffected")
    url = reverse("incident-impacts-derive", args=[incident.pk])
    client.force_login(support)
    assert client.post(url).status_code == 403
    client.force_login(lead)
    response = client.post(url, follow=True)
    assert "2 affected accounts found from the components they use." in flashes(response)
    assert sorted(Impact.objects.filter(incident=incident).values_list("account__name", flat=True)) == [
        "Acme", "Globex"]


def test_the_incident_page_queries_do_not_grow_with_the_impacts(client, lead, incident):
    client.force_login(lead)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(incident.get_absolute_url()).status_code == 200
        return len(captured)

    ImpactFactory(incident=incident)
    before = queries()
    for _ in range(15):
        ImpactFactory(incident=incident)
    assert queries() == before
