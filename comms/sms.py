"""Status page subscriptions by SMS: opt-in with a code sent to the number, STOP and START by reply.

- A visitor gives a number (E.164 once spaces, dashes and brackets are dropped) and the components or groups they
  care about; the number gets one text message with a 6-digit code, and nothing else until the code is typed back
  on the status page (comms.statuspage.sms_views). The code is kept only as an HMAC (keyed by SECRET_KEY and the
  code page's token), expires after SMS_CODE_TTL_MINUTES and allows SMS_CODE_MAX_ATTEMPTS tries; then a new code is
  needed.
- A number that is already confirmed gets no new code and its choices are not changed: the visitor sees the same
  answer either way, so the form does not tell who subscribes.
- Replies reach /sms/inbound/ (Twilio's signed webhook): STOP and its synonyms opt the number out, START and its
  synonyms opt a confirmed number back in.
- Every code costs a text message, so requests are counted per client and per number (core.ratelimit), and at most
  SMS_UNCONFIRMED_LIMIT subscriptions may wait for their code at once (SMS pumping: strangers' numbers, many clients).
"""

import enum
import re
import secrets
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from comms.channels.base import TransportError
from comms.channels.sms import send_text
from comms.models import SmsSubscriber
from comms.models.delivery import new_token
from comms.sms_text import gsm_friendly
from comms.subscriptions import with_group_members
from core import ratelimit

# --- The number --------------------------------------------------------------------------------------------

E164 = re.compile(r"\+[1-9][0-9]{7,14}")
LAYOUT_CHARACTERS = re.compile(r"[\s\-()]")
INVALID_PHONE = ("Enter the mobile number in international format: + and the country code, then the number, "
                 "e.g. +44 7700 900123 (spaces, dashes and brackets are fine).")


def normalise_phone(raw: str) -> str:
    """The number as stored: E.164 (+ and 8 to 15 digits), once spaces, dashes and brackets are dropped (full-width
    digits and signs count as plain ones). Anything else is refused with a ValidationError."""
    phone = LAYOUT_CHARACTERS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if not E164.fullmatch(phone):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return phone


# --- Abuse limits ------------------------------------------------------------------------------------------


def client_wait(request) -> int:
    """Count an SMS subscription request from this client: 0 if within SMS_SUBSCRIBE_RATE_PER_IP, else seconds."""
    client = ratelimit.network_key(ratelimit.client_ip(request))
    return ratelimit.hit("sms-subscribe-client", client, settings.SMS_SUBSCRIBE_RATE_PER_IP)


def number_wait(phone: str) -> int:
    """Count a code request for this number (new, waiting or confirmed alike, so the answer tells nothing about it):
    0 if within SMS_SUBSCRIBE_RATE_PER_NUMBER, else seconds to wait."""
    return ratelimit.hit("sms-subscribe-number", phone, settings.SMS_SUBSCRIBE_RATE_PER_NUMBER)


def too_many_waiting() -> bool:
    """Whether SMS_UNCONFIRMED_LIMIT subscriptions got a code in the last day and have not confirmed it."""
    since = timezone.now() - timezone.timedelta(days=1)
    waiting = SmsSubscriber.objects.filter(confirmed_at__isnull=True, code_sent_at__gte=since)
    return waiting.count() >= settings.SMS_UNCONFIRMED_LIMIT


# --- Subscribing with a code ---------------------------------------------------------------------------------


class CodeNotSent(Exception):
    """The code could not be sent; the sentence is for the visitor."""


def code_digest(token: str, code: str) -> str:
    return salted_hmac("comms.sms.code", f"{token}:{code}", algorithm="sha256").hexdigest()


def code_text(code: str) -> str:
    """The only text a number gets before it is confirmed: no link, so nobody can use it to send anyone anywhere."""
    return gsm_friendly(
        f"{code} is your code for {settings.STATUS_PAGE_NAME} status updates by SMS. It expires in "
        f"{settings.SMS_CODE_TTL_MINUTES} minutes. If you did not ask for it, ignore this message."
    )


def subscribe(phone: str, components=(), groups=()) -> str:
    """Start (or restart) the opt-in of this number and text it a new code. Returns the token of the code page.

    A number that already receives updates gets nothing and keeps its choices; the visitor is sent to a code page
    that confirms nothing, the same answer as for any other number. Raises CodeNotSent when Twilio refuses.
    """
    components = with_group_members(components, groups)
    with transaction.atomic():
        subscriber, _ = SmsSubscriber.objects.select_for_update().get_or_create(phone=phone)
        if subscriber.receives_updates:
            return new_token()
        code = f"{secrets.randbelow(1_000_000):06d}"
        subscriber.verify_token = new_token()
        subscriber.code_hash = code_digest(subscriber.verify_token, code)
        subscriber.code_sent_at, subscriber.code_attempts = timezone.now(), 0
        subscriber.save(update_fields=["verify_token", "code_hash", "code_sent_at", "code_attempts"])
        subscriber.components.set(components)
    try:
        send_text(phone, code_text(code))
    except TransportError as error:
        SmsSubscriber.objects.filter(pk=subscriber.pk, verify_token=subscriber.verify_token).update(code_hash="")
        if error.permanent:  # one sentence for every refusal (STOP included): it must not tell who talked to us
            raise CodeNotSent("We could not send a text message to this number. Check that it is a mobile number "
                              "in international format; if you once replied STOP to us, reply START to our last "
                              "message first.") from None
        raise CodeNotSent("We could not send the text message just now. Please try again in a few minutes.") from None
    return subscriber.verify_token


class Verification(enum.Enum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"  # not this code (or no code waits on this page)
    EXPIRED = "expired"  # too old, or tried SMS_CODE_MAX_ATTEMPTS times: a new code is needed


@dataclass(frozen=True)
class VerifyOutcome:
    result: Verification
    tries_left: int = 0


def verify(token: str, code: str) -> VerifyOutcome:
    """Check a code typed on the code page. Each try is counted before the code is compared, in one conditional
    UPDATE, so two racing tries cannot both use the last one; a right code confirms once and is forgotten."""
    now = timezone.now()
    fresh_since = now - timezone.timedelta(minutes=settings.SMS_CODE_TTL_MINUTES)
    waiting = SmsSubscriber.objects.filter(verify_token=token).exclude(code_hash="")
    subscriber = waiting.first()
    if subscriber is None:
        return VerifyOutcome(Verification.WRONG)
    counted = waiting.filter(code_attempts__lt=settings.SMS_CODE_MAX_ATTEMPTS, code_sent_at__gte=fresh_since).update(
        code_attempts=F("code_attempts") + 1)
    if not counted:
        return VerifyOutcome(Verification.EXPIRED)
    if not constant_time_compare(code_digest(token, code), subscriber.code_hash):
        return VerifyOutcome(Verification.WRONG, settings.SMS_CODE_MAX_ATTEMPTS - subscriber.code_attempts - 1)
    confirmed = waiting.filter(code_hash=subscriber.code_hash).update(
        confirmed_at=now, opted_out_at=None, code_hash="", verify_token=new_token())
    return VerifyOutcome(Verification.CONFIRMED if confirmed else Verification.EXPIRED)


# --- Replies: STOP and START -----------------------------------------------------------------------------------

# The keywords carriers and Twilio treat as opting out and back in (Twilio's default Advanced Opt-Out keywords).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})


def keyword(body: str, opt_out_type: str = "") -> str | None:
    """"stop", "start" or None for a reply. Twilio's own verdict (OptOutType, sent with Advanced Opt-Out) wins."""
    verdict = (opt_out_type or "").strip().upper()
    word = verdict or (body or "").strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None


def handle_reply(phone: str, body: str, opt_out_type: str = "") -> str | None:
    """Apply a reply from a number: STOP opts it out (waiting or confirmed), START opts a confirmed one back in.
    Returns what was understood ("stop", "start" or None)."""
    understood = keyword(body, opt_out_type)
    subscribers = SmsSubscriber.objects.filter(phone=phone)
    if understood == "stop":
        subscribers.filter(opted_out_at__isnull=True).update(opted_out_at=timezone.now(), code_hash="")
    elif understood == "start":
        subscribers.filter(confirmed_at__isnull=False, opted_out_at__isnull=False).update(opted_out_at=None)
    return understood
