"""What each kind of subscriber webhook accepts and how it is talked to: one small class per kind behind one
interface, and KINDS mapping SubscriberEndpoint.Kind to it."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from comms.models import Message, SubscriberEndpoint
from comms.rendering import body_paragraphs, customer_text, status_page_url
from core.outbound import OutboundSession


def display_code(code: str) -> str:
    """ABCDEFGH as ABCD-EFGH: easier to read off a chat message."""
    return f"{code[:4]}-{code[4:]}"


class EndpointKind:
    kind: str = ""
    label: str = ""
    url_help: str = ""

    def name(self, endpoint: SubscriberEndpoint) -> str:
        """How errors and logs name the endpoint: kind and id, never the URL."""
        return f"{self.label} endpoint #{endpoint.pk}"

    def check_url(self, url: str) -> None:
        """Raise ValidationError for a URL this kind never posts to (core.outbound checks the address after)."""

    def message_payload(self, message: Message, unsubscribe_url: str) -> dict:
        raise NotImplementedError

    def notice_payload(self, notice, unsubscribe_url: str) -> dict:
        """A notice about a maintenance window (comms.maintenance), laid out as this kind lays out an update."""
        raise NotImplementedError

    def test_payload(self, endpoint: SubscriberEndpoint, confirm_url: str, unsubscribe_url: str) -> dict:
        raise NotImplementedError

    def welcome_payload(self, endpoint: SubscriberEndpoint, unsubscribe_url: str) -> dict:
        """The first message to an endpoint confirmed where it was made ("Add to Slack": the workspace agreed at
        Slack), in place of the code. Only kinds with such a path have one."""
        raise NotImplementedError

    def post(self, session: OutboundSession, endpoint: SubscriberEndpoint, payload: dict, delivery_code: str,
             event: str) -> str:
        """Post it; the external id (the far side's message id where it gives one), or an EndpointError."""
        raise NotImplementedError


def headline_parts(message: Message) -> tuple[str, str, list[str]]:
    """(title line, headline, paragraphs) as customers read them: plain text, for each kind to escape its way."""
    incident = message.incident
    title = f"[{incident.severity} · {incident.public_status_label}] {incident.title}"
    return title, customer_text(message, message.headline), body_paragraphs(message)


def test_sentences(endpoint: SubscriberEndpoint) -> tuple[str, str]:
    """The two sentences of the message carrying the code."""
    return (
        f"Someone asked for {settings.STATUS_PAGE_NAME} status updates to be posted here. "
        f"The confirmation code is {display_code(endpoint.confirm_code)}.",
        "Enter it on the status page (or open the confirmation link) to start the updates. If nobody here asked, "
        f"ignore this: nothing else will be posted, and the request expires in {settings.ENDPOINT_CONFIRM_DAYS} "
        "days.",
    )


def welcome_sentences(endpoint: SubscriberEndpoint) -> tuple[str, str]:
    """The two sentences of the welcome message: what will be posted, and how it was asked for and how to stop it."""
    names = [component.name for component in endpoint.components.all()]
    about = f" about {', '.join(names)}" if names else ""
    return (
        f"This channel will now receive {settings.STATUS_PAGE_NAME} status updates{about}.",
        "Someone in this workspace added it from the status page with Add to Slack. To stop the updates, use the "
        "unsubscribe link below or in any update.",
    )


def host_in(url: str, hosts) -> bool:
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return host in {allowed.rstrip(".").lower() for allowed in hosts}


def refuse(text: str):
    raise ValidationError(text, code="wrong_kind_of_url")


def _kinds() -> dict[str, EndpointKind]:
    from comms.endpoints.discord import DiscordKind
    from comms.endpoints.generic import GenericWebhookKind
    from comms.endpoints.slack import SlackKind
    from comms.endpoints.teams import TeamsKind

    return {kind.kind: kind for kind in (SlackKind(), TeamsKind(), DiscordKind(), GenericWebhookKind())}


def kind_of(endpoint_or_kind) -> EndpointKind:
    kind = getattr(endpoint_or_kind, "kind", endpoint_or_kind)
    return _kinds()[kind]


def status_link() -> str:
    return status_page_url()
