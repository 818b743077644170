"""Customer data that leaked past the role that may read it (OWASP API3, excessive data exposure), in the security
world (world.py): recipients' addresses on deliveries are for those who may read subscribers, as
`/api/v1/subscribers/` is; a mention is for reviewers and the manager who owns its account, so the incident
timeline — read by every role — names it only by number, and an escalation email goes only to people who may read
it. Every refusal is paired with someone who does see it: the data is there, only the person is wrong."""

import pytest
from django.urls import reverse

from comms.choices import Audience, DeliveryStatus
from comms.models import Delivery, Message
from sentiment.models import Mention
from tests.security.authorization import ADMIN, LEAD, MANAGER, SUPPORT
from tests.security.world import LEAD2, MANAGER2

pytestmark = pytest.mark.django_db

NOT_SUBSCRIBER_READERS = (SUPPORT, MANAGER, MANAGER2)
SUBSCRIBER_READERS = (LEAD, ADMIN)


def sent_to_customers(world) -> list[Message]:
    """A public update that went to the status page and the subscriber, and a message to the affected accounts that
    went to the manager's contact and the other manager's contact; one email of each failed, quoting the address."""
    public = world.message_by(world.author)
    to_accounts = world.message_by(world.author)
    Message.objects.filter(pk=to_accounts.pk).update(audience=Audience.AFFECTED_ACCOUNTS, channels=["email"])
    rows = [(public, "statuspage", "statuspage", None), (public, "email", world.subscriber.email, world.subscriber),
            (to_accounts, "email", world.mine.contact.email, None),
            (to_accounts, "email", world.theirs.contact.email, None)]
    for message, channel, address, subscriber in rows:
        failed = "@" in address and subscriber is None
        Delivery.objects.create(message=message, channel=channel, recipient=address, subscriber=subscriber,
                                status=DeliveryStatus.FAILED if failed else DeliveryStatus.SENT, attempts=1,
                                last_error=f"SMTP 550: <{address}> unknown" if failed else "")
    return [public, to_accounts]


def deliveries(world, key, messages) -> list[dict]:
    rows = []
    for message in messages:
        response = world.api(key).get(reverse("api-message-deliveries", args=[message.pk]))
        assert response.status_code == 200
        rows += response.json()["results"]
    return rows


def message_pages(world, key, messages) -> str:
    pages = [world.browser(key).get(reverse("message-detail", args=[message.pk])) for message in messages]
    assert [page.status_code for page in pages] == [200] * len(messages)
    return "".join(page.content.decode() for page in pages)


def addresses(world) -> tuple[str, ...]:
    return world.subscriber.email, world.mine.contact.email, world.theirs.contact.email


@pytest.mark.parametrize("key", NOT_SUBSCRIBER_READERS)
def test_support_and_managers_get_no_recipient_address_from_the_deliveries_api_while_leads_do(world, key):
    assert world.api(key).get(reverse("api-subscriber-list")).status_code == 403  # the same rule as subscribers
    messages = sent_to_customers(world)
    rows = deliveries(world, key, messages)
    assert not [address for address in addresses(world) if address in repr(rows)]
    assert sorted((row["channel"], row["recipient"], row["status"]) for row in rows) == [
        ("email", None, "failed"), ("email", None, "failed"), ("email", None, "sent"),
        ("statuspage", "statuspage", "sent")]
    for reader in SUBSCRIBER_READERS:
        assert world.api(reader).get(reverse("api-subscriber-list")).status_code == 200
        assert all(address in repr(deliveries(world, reader, messages)) for address in addresses(world))


@pytest.mark.parametrize("key", NOT_SUBSCRIBER_READERS)
def test_support_and_managers_see_no_recipient_address_on_the_message_page_while_leads_do(world, key):
    messages = sent_to_customers(world)
    content = message_pages(world, key, messages)
    assert "address hidden" in content and "SMTP 550" in content
    assert not [address for address in addresses(world) if address in content]
    for reader in SUBSCRIBER_READERS:
        assert all(address in message_pages(world, reader, messages) for address in addresses(world))


# --- Mentions on the incident timeline and in escalation emails -----------------------------------------------

def timeline_as(world, key) -> str:
    """The incident's timeline as this user reads it: through the API and on the incident page."""
    entries = world.api(key).get(reverse("api-incident-timeline", args=[world.incident.pk])).json()["results"]
    page = world.browser(key).get(reverse("incident-detail", args=[world.incident.pk]))
    assert page.status_code == 200
    return repr(entries) + page.content.decode()


def confidential_mention(world, books, handle="cto_lena") -> Mention:
    return Mention.objects.create(
        source="x", external_id=f"confidential-{handle}", text="CONFIDENTIAL: the board is moving to a competitor",
        author_handle=handle, posted_at=books.mention.posted_at, account=books.account, incident=world.incident)


def test_a_manager_reads_no_dismissed_mention_of_another_managers_customer_on_the_timeline(world):
    theirs = confidential_mention(world, world.theirs)
    response = world.browser(SUPPORT).post(reverse("mention-action", args=[theirs.pk, "dismiss"]),
                                           {"reason": "Handled by phone: CONFIDENTIAL board decision"})
    assert response.status_code == 302
    assert Mention.objects.get(pk=theirs.pk).review_state == "dismissed"
    shown = timeline_as(world, MANAGER)
    assert f"Mention {theirs.pk} dismissed" in shown
    assert "CONFIDENTIAL" not in shown and "competitor" not in shown and "cto_lena" not in shown
    assert world.api(MANAGER).get(reverse("api-mention-detail", args=[theirs.pk])).status_code == 404
    assert world.api(MANAGER2).get(reverse("api-mention-detail", args=[theirs.pk])).status_code == 200  # follows it


def test_a_manager_reads_no_escalated_mention_of_another_managers_customer_on_the_timeline(world):
    theirs = confidential_mention(world, world.theirs)
    response = world.api(SUPPORT).post(reverse("api-mention-escalate", args=[theirs.pk]),
                                       {"note": "They quote: CONFIDENTIAL"}, format="json")
    assert response.status_code == 200
    shown = timeline_as(world, MANAGER)
    assert f"Mention {theirs.pk} escalated to account management" in shown
    assert "CONFIDENTIAL" not in shown and "competitor" not in shown


def test_a_manager_reads_no_escalated_mentions_author_handle_on_the_timeline(world):
    theirs = confidential_mention(world, world.theirs)
    escalated = world.api(SUPPORT).post(reverse("api-mention-escalate", args=[theirs.pk]), {}, format="json")
    assert escalated.status_code == 200
    timeline = timeline_as(world, MANAGER)
    assert f"Mention {theirs.pk} escalated" in timeline and "cto_lena" not in timeline


@pytest.mark.parametrize("about_the_incident", [False, True], ids=["no incident", "about the incident"])
def test_an_escalation_of_a_mention_with_an_owned_account_emails_only_the_owner(world, mailoutbox,
                                                                               about_the_incident):
    theirs = confidential_mention(world, world.theirs)
    if not about_the_incident:  # no impact to plan a follow-up on: it used to go to every account manager
        Mention.objects.filter(pk=theirs.pk).update(incident=None)
    response = world.api(SUPPORT).post(reverse("api-mention-escalate", args=[theirs.pk]), {}, format="json")
    assert response.status_code == 200
    assert [email.to for email in mailoutbox] == [[world.user(MANAGER2).email]]
    assert "CONFIDENTIAL" in mailoutbox[0].body  # the owner may read it


def test_an_escalation_of_a_mention_without_an_account_emails_the_leads(world, mailoutbox):
    stray = Mention.objects.create(source="x", external_id="security-stray", text="CONFIDENTIAL: who do I call?",
                                   author_handle="stray", posted_at=world.mine.mention.posted_at,
                                   incident=world.incident)
    world.api(SUPPORT).post(reverse("api-mention-escalate", args=[stray.pk]), {}, format="json")
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == sorted([world.user(LEAD).email, world.user(LEAD2).email])
