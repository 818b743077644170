"""Recipients' addresses — status page subscribers', account contacts', colleagues' — are shown only to those who may
read subscribers (comms.view_subscriber: communications leads), in the deliveries API and on the message page alike.
Support and account managers see each delivery's channel, status and attempts and the counts, never an address."""

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from comms.choices import Audience, DeliveryStatus, MessageState
from comms.models import Subscriber
from tests.factories import AccountFactory, ContactFactory, DeliveryFactory, IncidentFactory, MessageFactory

pytestmark = pytest.mark.django_db

SUBSCRIBER = "reader@subscriber.example"
CONTACT = "cto@acme.example"
ADDRESSES = (SUBSCRIBER, CONTACT)


@pytest.fixture
def public_message(lead):
    """A sent public update: the status page, a webhook endpoint and a subscriber whose email bounced."""
    message = MessageFactory(incident=IncidentFactory(), author=lead, channels=["email", "statuspage", "webhook"],
                             state=MessageState.PARTIALLY_FAILED)
    subscriber = Subscriber.objects.create(email=SUBSCRIBER, confirmed_at=timezone.now())
    DeliveryFactory(message=message, recipient=SUBSCRIBER, subscriber=subscriber, status=DeliveryStatus.FAILED,
                    attempts=1, last_error=f"SMTP 550: 5.1.1 <{SUBSCRIBER}>: Recipient address rejected")
    DeliveryFactory(message=message, channel="statuspage", recipient="statuspage", status=DeliveryStatus.SENT,
                    attempts=1, sent_at=timezone.now())
    DeliveryFactory(message=message, channel="webhook", recipient="endpoint:7", status=DeliveryStatus.SENT,
                    attempts=1, sent_at=timezone.now())
    return message


@pytest.fixture
def contacts_message(lead):
    """A sent message to an account's contacts (audience affected accounts): customer data too."""
    account = AccountFactory(name="Acme")
    ContactFactory(account=account, email=CONTACT)
    message = MessageFactory(incident=IncidentFactory(), author=lead, channels=["email"], account=account,
                             audience=Audience.AFFECTED_ACCOUNTS, state=MessageState.SENT)
    DeliveryFactory(message=message, recipient=CONTACT, status=DeliveryStatus.SENT, attempts=1,
                    sent_at=timezone.now())
    return message


def deliveries_api(api_as, user, message, query="") -> list[dict]:
    response = api_as(user).get(f"/api/v1/messages/{message.pk}/deliveries/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def message_page(client, user, message) -> str:
    client.force_login(user)
    response = client.get(message.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", ["support", "manager"])
def test_support_and_a_manager_get_no_subscriber_address_from_the_deliveries_api_while_a_lead_does(
        api_as, users, public_message, role):
    rows = deliveries_api(api_as, users[role], public_message)
    assert SUBSCRIBER not in repr(rows)
    shown = {row["channel"]: (row["recipient"], row["status"], row["last_error"]) for row in rows}
    assert shown == {
        "email": (None, "failed", "SMTP 550: 5.1.1 <[address hidden]>: Recipient address rejected"),
        "statuspage": ("statuspage", "sent", ""),
        "webhook": ("endpoint:7", "sent", ""),
    }
    as_lead = {row["channel"]: (row["recipient"], row["last_error"])
               for row in deliveries_api(api_as, users["lead"], public_message)}
    assert as_lead["email"] == (SUBSCRIBER, f"SMTP 550: 5.1.1 <{SUBSCRIBER}>: Recipient address rejected")


@pytest.mark.parametrize("role", ["support", "manager"])
def test_support_and_a_manager_get_no_contact_address_from_the_deliveries_api_while_a_lead_does(
        api_as, users, contacts_message, role):
    rows = deliveries_api(api_as, users[role], contacts_message)
    assert [(row["channel"], row["recipient"], row["status"]) for row in rows] == [("email", None, "sent")]
    assert [row["recipient"] for row in deliveries_api(api_as, users["lead"], contacts_message)] == [CONTACT]


@pytest.mark.parametrize("role", ["support", "manager"])
def test_support_and_a_manager_count_deliveries_per_status_through_the_api_without_addresses(
        api_as, users, public_message, role):
    client = api_as(users[role])
    path = f"/api/v1/messages/{public_message.pk}/deliveries/"
    failed, sent = client.get(path + "?status=failed").json(), client.get(path + "?status=sent").json()
    assert (failed["count"], sent["count"]) == (1, 2)
    assert [row["recipient"] for row in failed["results"]] == [None]


@pytest.mark.parametrize("role", ["support", "manager"])
def test_support_and_a_manager_see_no_address_on_the_message_page_while_a_lead_does(
        client, users, public_message, contacts_message, role):
    content = message_page(client, users[role], public_message) + message_page(client, users[role], contacts_message)
    assert not any(address in content for address in ADDRESSES)
    assert "address hidden" in content and "endpoint:7" in content
    assert "Recipient address rejected" in content  # why a delivery failed is still shown, without the address
    as_lead = message_page(client, users["lead"], public_message) + message_page(client, users["lead"],
                                                                                 contacts_message)
    assert all(address in as_lead for address in ADDRESSES) and "address hidden" not in as_lead


@pytest.mark.parametrize("role", ["support", "manager"])
def test_support_and_a_manager_see_the_counts_per_channel_and_status_on_the_message_page(client, users,
                                                                                        public_message, role):
    content = message_page(client, users[role], public_message)
    assert "<tr><td>email</td><td>0</td><td>0</td><td>0</td><td class=\"bad\">1</td><td>1</td></tr>" in content
    assert SUBSCRIBER not in content


def test_the_schema_documents_that_a_delivery_recipient_may_be_null():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    recipient = schema["components"]["schemas"]["Delivery"]["properties"]["recipient"]
    assert recipient["nullable"] is True and "comms.view_subscriber" in recipient["description"]
