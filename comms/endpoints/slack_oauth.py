"""Add to Slack: a status page visitor subscribes a Slack channel through Slack's OAuth v2 flow instead of pasting
an incoming-webhook URL. On only when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set (docs/operations.md
"Add to Slack").

1. The subscribe form's "Add to Slack" button posts the visitor's components and groups; start() issues a nonce
   (kept in the cache for STATE_SECONDS and consumed once: slack_sdk's OAuthStateStore interface), signs it with the
   choice into the `state`, and gives the URL of Slack's authorize page (scope incoming-webhook, our callback as
   redirect_uri). The view also puts the nonce in a short-lived cookie, so that the state works only in the browser
   that started the flow.
2. Slack sends the browser back to the callback with ?code=…&state=… (or ?error=access_denied). read_state() checks
   the signature, the age and the cookie, and consumes the nonce; exchange() trades the code at oauth.v2.access
   (slack-sdk's WebClient, at SLACK_URL) for the channel's incoming webhook.
3. The webhook URL Slack gives must pass the form's own checks (SlackKind.check_url, then core.outbound's public
   address rule) and becomes a confirmed subscription (subscriptions.subscribe_confirmed): the workspace's consent
   at Slack is the opt-in, so there is no code, and a welcome message goes to the channel.

The webhook URL is a credential: it is never logged, rendered or put into an error. The client secret crosses only
to Slack, in the Authorization header of the exchange; the bot token Slack also returns is not kept (the
incoming-webhook scope lets it do nothing this site needs). Nor is it revoked: auth.revoke on a bot token deactivates
the app's bot user in that workspace, and whether the channel's incoming webhook outlives that cannot be checked
without Slack itself; a token never stored, whose only scope calls no Web API method, is the smaller risk. The
channel's and workspace's names Slack gives are kept on the subscription (SubscriberEndpoint.place) for leads."""

import hmac
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth import AuthorizeUrlGenerator
from slack_sdk.oauth.state_store import OAuthStateStore

from comms.endpoints.kinds import kind_of
from comms.endpoints.slack import sdk_log
from core.outbound import READ_TIMEOUT_SECONDS, validate_outbound_url
from incidents.models import Component, ComponentGroup

log = logging.getLogger(__name__)

SCOPES = ["incoming-webhook"]
STATE_SECONDS = 600  # from the button to the callback
COOKIE = "ears_slack_oauth"
_SALT = "comms.endpoints.slack_oauth.state"
URL_MAX_LENGTH = 500  # SubscriberEndpoint.url

# Errors of oauth.v2.access that mean the visitor's code is no good (start again), not that the app is set up wrong.
CODE_ERRORS = frozenset({"invalid_code", "code_already_used"})


def now() -> float:
    """The clock, in one place so that tests can move it forward."""
    return time.time()


def configured() -> bool:
    return settings.SLACK_OAUTH_CONFIGURED


def callback_url() -> str:
    """The redirect_uri: absolute, on SITE_URL (the address the Slack app lists as its Redirect URL)."""
    return settings.SITE_URL + reverse("status-slack-callback")


def callback_path() -> str:
    return reverse("status-slack-callback")


def slack_origin() -> str:
    """Where the authorize page is: a form whose POST is redirected there needs it in its page's CSP form-action."""
    parts = urlsplit(settings.SLACK_URL)
    return f"{parts.scheme}://{parts.netloc}"


# --- The state ------------------------------------------------------------------------------------------------


class CacheStateStore(OAuthStateStore):
    """slack-sdk's state store on the default cache (Redis in production, shared by every web process): a nonce
    lives STATE_SECONDS and is consumed once. The cache's delete says whether this call removed the key, so of two
    callbacks racing with one state only one gets True."""

    prefix = "slack-oauth-state:"

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args, **kwargs) -> str:
        nonce = secrets.token_urlsafe(24)
        cache.set(self.prefix + nonce, 1, timeout=STATE_SECONDS)
        return nonce

    def consume(self, state: str) -> bool:
        try:
            return bool(cache.delete(self.prefix + state))
        except Exception as error:  # the cache is down: refuse (the visitor can start again), never a 500
            log.warning("Add to Slack: the state could not be checked, the cache failed (%s)", type(error).__name__)
            return False


state_store = CacheStateStore()


@dataclass(frozen=True)
class Choice:
    """What the visitor asked to hear about, carried through Slack in the state."""

    components: list
    groups: list


class StateRefused(Exception):
    """The callback's state is not one this browser may use; the message says why, for the visitor."""


NOT_OURS = "The link back from Slack did not come from this status page's Add to Slack button."
EXPIRED = f"It was started more than {STATE_SECONDS // 60} minutes ago."
OTHER_BROWSER = (
    "It was started in another browser, or this browser did not keep the status page's cookie "
    "(allow cookies for this site, then start again)."
)
USED = "It has been used already."


def start(components=(), groups=()) -> tuple[str, str]:
    """(the URL of Slack's authorize page, the nonce the browser must keep in COOKIE)."""
    nonce = state_store.issue()
    state = signing.dumps(
        {
            "n": nonce,
            "t": int(now()),
            "c": [component.pk for component in components],
            "g": [group.pk for group in groups],
        },
        salt=_SALT,
        compress=True,
    )
    return authorize_url(state), nonce


def authorize_url(state: str) -> str:
    generator = AuthorizeUrlGenerator(  # it puts the values in as given: quoted here
        client_id=quote(settings.SLACK_CLIENT_ID, safe=""),
        scopes=SCOPES,
        redirect_uri=quote(callback_url(), safe=""),
        authorization_url=f"{settings.SLACK_URL}/oauth/v2/authorize",
    )
    return generator.generate(quote(state, safe=""))


def read_state(state: str, cookie_nonce: str) -> Choice:
    """The choice the state carries, if it is ours, recent, this browser's and unused; consumed by this call."""
    try:
        data = signing.loads(state, salt=_SALT)
    except signing.BadSignature:
        raise StateRefused(NOT_OURS) from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("t"), int):
        raise StateRefused(NOT_OURS)
    if not 0 <= now() - data["t"] <= STATE_SECONDS:
        raise StateRefused(EXPIRED)
    if not cookie_nonce or not hmac.compare_digest(data["n"].encode(), cookie_nonce.encode()):
        raise StateRefused(OTHER_BROWSER)
    if not state_store.consume(data["n"]):
        raise StateRefused(USED)
    component_ids = [pk for pk in data.get("c", ()) if isinstance(pk, int)]
    group_ids = [pk for pk in data.get("g", ()) if isinstance(pk, int)]
    return Choice(
        components=list(Component.objects.filter(pk__in=component_ids)),  # gone since: left out
        groups=list(ComponentGroup.objects.filter(pk__in=group_ids)),
    )


# --- The exchange ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installation:
    """The channel Slack made an incoming webhook for. The URL stays out of every repr, log and page."""

    url: str = field(repr=False)
    channel: str
    team: str


class SlackRefused(Exception):
    """The exchange gave no usable webhook. `error` is Slack's code (invalid_code, bad_client_secret, …) or one of
    ours (unreachable, no_incoming_webhook, refused_webhook_url); never the URL or the secret."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error

    @property
    def visitor_can_retry(self) -> bool:
        """Starting again will do (the code was used or is too old); otherwise the app or Slack is at fault."""
        return self.error in CODE_ERRORS


def exchange(code: str) -> Installation:
    """Trade the code from the callback for the channel's incoming webhook (oauth.v2.access)."""
    client = WebClient(base_url=f"{settings.SLACK_URL}/api/", timeout=READ_TIMEOUT_SECONDS, logger=sdk_log)
    try:
        answer = client.oauth_v2_access(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET,
            code=code,
            redirect_uri=callback_url(),
        )
    except SlackApiError as error:  # ok: false, or an HTTP error status
        data = error.response.data if isinstance(error.response.data, dict) else {}
        raise SlackRefused(str(data.get("error") or f"http_{error.response.status_code}")[:60]) from None
    except (SlackClientError, OSError, ValueError) as error:  # no answer, or not JSON
        log.warning("Add to Slack: oauth.v2.access could not be reached (%s)", type(error).__name__)
        raise SlackRefused("unreachable") from None
    data = answer.data if isinstance(answer.data, dict) else {}
    webhook = data.get("incoming_webhook") if isinstance(data.get("incoming_webhook"), dict) else {}
    team = data.get("team") if isinstance(data.get("team"), dict) else {}
    url = webhook.get("url")
    if not isinstance(url, str) or not url:
        raise SlackRefused("no_incoming_webhook")
    check_webhook_url(url)
    return Installation(url=url, channel=_shown(webhook.get("channel")), team=_shown(team.get("name")))


def _shown(name) -> str:
    """A name Slack gave, as it may be shown and stored: no control or format characters (a NUL, which PostgreSQL
    refuses; a right-to-left override, which would disguise it), at most 80 characters."""
    return "".join(char for char in str(name or "") if unicodedata.category(char) not in ("Cc", "Cf"))[:80].strip()


def check_webhook_url(url: str) -> None:
    """The checks a pasted Slack URL passes on the form: Slack's webhook host and path, then https to a public
    address (core.outbound checks the address again at every send)."""
    try:
        if len(url) > URL_MAX_LENGTH:
            raise ValidationError("too long")
        kind_of("slack").check_url(url)
        validate_outbound_url(url)
    except ValidationError:
        log.warning(
            "Add to Slack: Slack returned a webhook URL on %s, which is refused",
            (urlsplit(url).hostname or "no host")[:80],
        )
        raise SlackRefused("refused_webhook_url") from None
