"""One small world of real objects for the security tests: a user per role, an incident, a pre-approved template,
the manager's account with a contact, an impact, a follow-up and compensation and a mention from it, the same for
another manager's account, a subscriber. Made once per test module; each test changes it only inside its own
transaction."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from knox.models import AuthToken

from accounts import services as account_services
from accounts.models import Account, Compensation, Contact, FollowUp, Impact
from comms import messaging
from comms.choices import MessagePhase
from comms.models import Message, MessageTemplate, Subscriber
from core import roles
from incidents.choices import Severity
from incidents.models import Component, Incident
from sentiment.models import Mention
from tests.factories import (
    AccountFactory,
    ComponentFactory,
    ContactFactory,
    ImpactFactory,
    IncidentFactory,
    UserFactory,
)
from tests.security.authorization import ADMIN, ANONYMOUS, LEAD, MANAGER, ROLELESS, SUPPORT

MANAGER2, LEAD2 = "manager2", "lead2"  # another account manager; a second lead who writes messages others approve


@dataclass
class Books:
    """One manager's customer: the account, a contact, an impact on the incident, a follow-up, compensation, a
    mention from one of their people."""

    account: Account
    contact: Contact
    impact: Impact
    follow_up: FollowUp
    compensation: Compensation
    mention: Mention


@dataclass
class World:
    users: dict  # role → user (None for anonymous), and MANAGER2, LEAD2
    component: Component
    incident: Incident
    template: MessageTemplate
    mine: Books  # the manager's
    theirs: Books  # the other manager's
    spare: Account  # the other manager's account with no impact yet
    subscriber: Subscriber
    sessions: dict = field(default_factory=dict)  # user key → session key of a signed-in browser
    tokens: dict = field(default_factory=dict)  # user key → API token

    def user(self, role: str):
        return self.users[role]

    @property
    def author(self):
        return self.users[LEAD2]

    # The manager's objects, by the names the authorization matrix requests them with.
    account = property(lambda self: self.mine.account)
    contact = property(lambda self: self.mine.contact)
    impact = property(lambda self: self.mine.impact)
    follow_up = property(lambda self: self.mine.follow_up)
    compensation = property(lambda self: self.mine.compensation)
    mention = property(lambda self: self.mine.mention)

    def sign_in(self) -> None:
        """A session and an API token per user, made once and reused by every request of the module."""
        for key, user in self.users.items():
            if user is None:
                continue
            client = Client()
            client.force_login(user)
            self.sessions[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
            self.tokens[key] = AuthToken.objects.create(user, expiry=None)[1]

    def browser(self, key: str) -> Client:
        client = Client()
        if key in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[key]
        return client

    def api(self, key: str):
        from rest_framework.test import APIClient

        client = APIClient()
        if key in self.tokens:
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.tokens[key]}")
        return client

    # --- Messages, made fresh inside a test -------------------------------------------------------------

    def message_by(self, author, **fields) -> Message:
        return messaging.create_message(
            incident=self.incident, author=author, headline=fields.pop("headline", "Checkout is slow"),
            explain=fields.pop("explain", "Some payments take a minute."), channels=["statuspage"], **fields,
        )

    def own_message(self, role: str) -> Message:
        """A draft the user wrote (the second lead's, for an anonymous visitor)."""
        return self.message_by(self.users[role] or self.author)

    def message_in(self, state: str) -> Message:
        message = self.message_by(self.author)
        Message.objects.filter(pk=message.pk).update(state=state, submitted_at=timezone.now())
        message.refresh_from_db()
        return message

    def preapproved_draft(self) -> Message:
        """An unchanged draft from the pre-approved template: support and leads publish it at once."""
        message = messaging.create_message(incident=self.incident, author=self.author, template=self.template)
        assert message.is_unchanged_preapproved
        return message


def _books(owner, incident: Incident, name: str, domain: str, component: Component) -> Books:
    account = AccountFactory(name=name, owner=owner)
    account.components.add(component)
    contact = ContactFactory(account=account, name=f"{name} CTO", email=f"cto@{domain}")
    impact = ImpactFactory(incident=incident, account=account)
    follow_up = account_services.add_follow_up(impact, actor=owner, summary="Call the CTO",
                                               due_at=timezone.now() + timedelta(hours=2))
    compensation = account_services.propose_compensation(impact, actor=owner, kind="gift", amount=Decimal(100),
                                                         reason="Down during their launch")
    mention = Mention.objects.create(
        source="x", external_id=f"security-{domain}", text=f"{name}: checkout is down again",
        author_handle=f"{name.lower()}_ops", posted_at=timezone.now() - timedelta(minutes=5), account=account,
        incident=incident,
    )
    return Books(account, contact, impact, follow_up, compensation, mention)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def build_world() -> World:
    users = {
        ANONYMOUS: None,
        ROLELESS: UserFactory(username="sec-nobody"),
        SUPPORT: UserFactory(username="sec-support", role=roles.SUPPORT),
        MANAGER: UserFactory(username="sec-manager", role=roles.ACCOUNT_MANAGER),
        LEAD: UserFactory(username="sec-lead", role=roles.COMMS_LEAD),
        ADMIN: UserFactory(username="sec-admin", is_staff=True, is_superuser=True),
        MANAGER2: UserFactory(username="sec-manager2", role=roles.ACCOUNT_MANAGER),
        LEAD2: UserFactory(username="sec-lead2", role=roles.COMMS_LEAD),
    }
    component = ComponentFactory(name="Checkout API")
    incident = IncidentFactory(title="Checkout errors", severity=Severity.SEV3)
    incident.components.add(component)
    template = MessageTemplate.objects.create(
        name="Security: investigating", phase=MessagePhase.INITIAL, pre_approved=True, channels=["statuspage"],
        headline="We are investigating {incident_title}", explain="Some customers see errors.",
        acknowledge="We are sorry.",
    )
    world = World(
        users=users, component=component, incident=incident, template=template,
        mine=_books(users[MANAGER], incident, "Acme", "acme.example", component),
        theirs=_books(users[MANAGER2], incident, "Globex", "globex.example", component),
        spare=AccountFactory(name="Initech", owner=users[MANAGER2]),
        subscriber=Subscriber.objects.create(email="reader@example.com"),
    )
    world.sign_in()
    return world
