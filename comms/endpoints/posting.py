"""One POST to a subscriber's webhook, through the outbound guard (core.outbound), and what its answer means.

Errors name the endpoint by kind and id, never by URL: a Slack or Discord webhook URL is its own credential, and
delivery errors are shown to staff."""

import json

import requests

from comms.channels.base import TransportError
from core.outbound import TIMEOUT, OutboundRefused, OutboundSession

# Answers that say the webhook is gone or no longer ours to post to: counted against the endpoint, which is disabled
# after SUBSCRIBER_ENDPOINT_MAX_FAILURES in a row. A 400 (a payload the far side did not like) is permanent for that
# delivery but is not the endpoint's fault, so it is not counted.
DEAD_ENDPOINT_STATUSES = frozenset({401, 403, 404, 410})
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class EndpointError(TransportError):
    """A TransportError that also says whether it counts towards disabling the endpoint."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None,
                 counts_against_endpoint: bool = False):
        super().__init__(message, permanent=permanent, retry_after=retry_after)
        self.counts_against_endpoint = counts_against_endpoint


def seconds(value) -> float | None:
    """A wait in seconds from a Retry-After header or a JSON retry_after (Discord's is a float); None if unreadable."""
    try:
        wait = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return wait if 0 <= wait < 86400 else None


def refused(name: str, refusal: OutboundRefused) -> EndpointError:
    return EndpointError(f"{name} was refused: {refusal}.", permanent=True, counts_against_endpoint=True)


def unreachable(name: str, error: Exception) -> EndpointError:
    return EndpointError(f"{name} could not be reached: {type(error).__name__}", permanent=False)


def judge(name: str, status: int, detail: str = "", retry_after: float | None = None) -> None:
    """Raise the EndpointError a non-2xx answer means; return for a 2xx."""
    if 200 <= status < 300:
        return
    said = f" ({detail[:80]})" if detail else ""
    if 300 <= status < 400:
        raise EndpointError(f"{name} answered {status}, a redirect, which is never followed.", permanent=True,
                            counts_against_endpoint=True)
    if status in TRANSIENT_STATUSES or status >= 500:
        raise EndpointError(f"{name} answered {status}{said}", permanent=False, retry_after=retry_after)
    dead = status in DEAD_ENDPOINT_STATUSES
    raise EndpointError(
        f"{name} answered {status}{said}" + ("; the webhook was deleted or no longer accepts posts" if dead else ""),
        permanent=True, counts_against_endpoint=dead,
    )


def post_json(session: OutboundSession, name: str, url: str, payload: dict, headers: dict | None = None,
              body: bytes | None = None) -> requests.Response:
    """POST payload (or the exact body given) as JSON; the 2xx response, or an EndpointError."""
    if not isinstance(session, OutboundSession):
        raise TypeError("subscriber webhooks are posted only through a core.outbound.OutboundSession")
    if body is None:
        body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "EARS-webhooks/1", **(headers or {})}
    try:
        response = session.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except OutboundRefused as refusal:
        raise refused(name, refusal) from None
    except requests.RequestException as error:
        raise unreachable(name, error) from None
    judge(name, response.status_code, _detail(response), retry_after(response))
    return response


def retry_after(response: requests.Response) -> float | None:
    """How long the far side asked us to wait: Discord's JSON retry_after (a float, more precise than its header),
    else the Retry-After header."""
    if response.status_code == 429:
        try:
            data = json.loads(response.content[:1000])
        except ValueError:
            data = None
        if isinstance(data, dict) and seconds(data.get("retry_after")) is not None:
            return seconds(data["retry_after"])
    return seconds(response.headers.get("Retry-After"))


def _detail(response: requests.Response) -> str:
    """A short reason from the body (Slack answers "no_service", Discord {"message": "Unknown Webhook"})."""
    text = response.content[:300].decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text if text.isprintable() else ""
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or "")[:80]
    return ""
