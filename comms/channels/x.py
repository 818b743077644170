import time

import requests
import tweepy
from django.conf import settings

from comms.channels.base import Recipient, Refusal, Transport, TransportError, register
from comms.choices import Audience
from comms.rendering import render_x_post
from core.validators import whole_number

X_RECIPIENT = "x"


def x_client() -> tweepy.Client:
    credentials = settings.X_CREDENTIALS
    return tweepy.Client(
        consumer_key=credentials["X_API_KEY"],
        consumer_secret=credentials["X_API_SECRET"],
        access_token=credentials["X_ACCESS_TOKEN"],
        access_token_secret=credentials["X_ACCESS_TOKEN_SECRET"],
        wait_on_rate_limit=False,  # we never sleep in a worker; the delivery is retried at the reset time
    )


def post_to_x(text: str, in_reply_to: str | None = None) -> str:
    """Create one post (a reply when in_reply_to is given); return its id. Errors become TransportError."""
    try:
        response = x_client().create_tweet(text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True)
    except tweepy.TooManyRequests as error:
        reset = error.response.headers.get("x-rate-limit-reset")
        moment = whole_number((reset or "").strip())  # "²" passed str.isdigit() and broke float()
        wait = min(max(moment - time.time(), 1.0), 86_400.0) if moment is not None else None
        raise TransportError("X rate limit reached (429)", permanent=False, retry_after=wait,
                             refusal=Refusal.RATE_LIMIT) from None
    except tweepy.TwitterServerError as error:
        raise TransportError(f"X server error ({error.response.status_code})", permanent=False) from None
    except tweepy.HTTPException as error:  # 400, 401, 403 (e.g. duplicate content), 404: trying again won't help
        detail = "; ".join(error.api_messages) or error.response.reason
        raise TransportError(f"X refused the post ({error.response.status_code}): {detail}", permanent=True) from None
    except requests.RequestException as error:
        raise TransportError(f"X could not be reached: {error}", permanent=False, channel_down=True) from None
    except ValueError:  # tweepy int()s a 429's x-rate-limit-reset itself, before we see the answer
        raise TransportError("X rate limit reached (429)", permanent=False, refusal=Refusal.RATE_LIMIT) from None
    return str(response.data["id"])


@register
class XTransport(Transport):
    kind = "x"
    label = "X (Twitter)"
    audiences = frozenset({Audience.PUBLIC})

    def is_configured(self) -> bool:
        return settings.X_CONFIGURED

    def not_configured_reason(self) -> str:
        return "X is not configured: set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET."

    def recipients(self, message):
        yield Recipient(address=X_RECIPIENT)

    def send(self, delivery) -> str:
        if not self.is_configured():
            raise TransportError(self.not_configured_reason(), permanent=True)
        if delivery.in_reply_to:  # a support reply to a post on X
            return post_to_x(delivery.body, in_reply_to=delivery.in_reply_to)
        return post_to_x(render_x_post(delivery.message))
