import smtplib
from contextlib import contextmanager
from functools import lru_cache

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db.models import Q
from django.urls import reverse

from accounts.models import Contact
from comms.channels.base import DeliverySkipped, Recipient, Transport, TransportError, register
from comms.choices import Audience
from comms.maintenance.rendering import render_notice_email
from comms.models import Subscriber
from comms.rendering import render_email
from core.models import Suppression
from core.roles import ROLES
from core.suppression import key, suppress, suppressed_addresses

UNSUBSCRIBE_MARK = "__EARS_UNSUBSCRIBE_URL__"
RECIPIENT_MARK = "ears-recipient-mark@example.invalid"
MESSAGE_ID_MARK = "<ears-message-id-mark@ears.local>"


def affected_account_contacts(incident, account=None):
    """Email addresses of the contacts of the accounts the incident affected (those with an impact recorded),
    or of one account's contacts for a targeted message."""
    contacts = Contact.objects.filter(account=account) if account is not None else Contact.objects.filter(
        account__impacts__incident=incident)
    return contacts.order_by("email").values_list("email", flat=True).distinct().iterator(2000)


def subscriber_recipients(incident):
    component_ids = list(incident.components.values_list("pk", flat=True))
    # A subscriber with no components chosen gets everything; others only updates touching their components.
    subscribers = (
        Subscriber.objects.filter(confirmed_at__isnull=False)
        .filter(Q(components__isnull=True) | Q(components__in=component_ids))
        .distinct()
        .order_by("pk")
    )
    for subscriber_id, email in subscribers.values_list("pk", "email").iterator(2000):
        yield Recipient(address=email, subscriber_id=subscriber_id)


@register
class EmailTransport(Transport):
    kind = "email"
    label = "Email"

    def __init__(self):
        self.connection = None
        self.suppressed = None  # read per batch (session); None outside one: read per send
        self._rendered = {}
        self._raw = {}

    def recipients(self, message):
        """Everyone the message is for, less the suppression list (addresses that bounced hard or complained)."""
        suppressed = suppressed_addresses()
        return (recipient for recipient in self._audience(message) if key(recipient.address) not in suppressed)

    def _audience(self, message):
        incident = message.incident
        if message.audience == Audience.PUBLIC:
            yield from subscriber_recipients(incident)
        elif message.audience == Audience.AFFECTED_ACCOUNTS:
            contacts = affected_account_contacts(incident, message.account)
            yield from (Recipient(address=email) for email in contacts)
        else:
            staff = get_user_model().objects.filter(is_active=True, groups__name__in=ROLES).exclude(email="")
            yield from (Recipient(address=email) for email in staff.values_list("email", flat=True).distinct())

    @contextmanager
    def session(self):
        """One SMTP connection for the whole batch; opened lazily by the first send, reopened after a reset. The
        suppression list is read once per batch too: an address that bounced since the fan-out is skipped."""
        self.connection = get_connection(fail_silently=False)
        self.suppressed = suppressed_addresses()
        try:
            yield self
        finally:
            self._reset(self.connection)

    def _render(self, delivery):
        """Render once per message (or maintenance notice) and batch; the unsubscribe link is filled in per
        recipient."""
        key = _content_key(delivery)
        if key not in self._rendered:
            if delivery.notice_id:
                self._rendered[key] = render_notice_email(delivery.notice, unsubscribe_url=UNSUBSCRIBE_MARK)
            else:
                self._rendered[key] = render_email(delivery.message, unsubscribe_url=UNSUBSCRIBE_MARK)
        return self._rendered[key]

    def build(self, delivery, recipient=None, message_id=None, unsubscribe_url=None) -> EmailMultiAlternatives:
        """The email for one delivery, built with Django's EmailMultiAlternatives (text + HTML)."""
        subject, text, html = self._render(delivery)
        headers = {"Message-ID": message_id or _message_id(delivery)}
        if delivery.subscriber_id:
            url = unsubscribe_url or unsubscribe_link(delivery.subscriber.unsubscribe_token)
            text, html = text.replace(UNSUBSCRIBE_MARK, url), html.replace(UNSUBSCRIBE_MARK, url)
            headers["List-Unsubscribe"] = f"<{url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        else:
            text, html = _drop_unsubscribe(text), _drop_unsubscribe(html)
        email = EmailMultiAlternatives(
            subject, text, settings.DEFAULT_FROM_EMAIL, [recipient or delivery.recipient], headers=headers
        )
        email.attach_alternative(html, "text/html")
        return email

    def raw(self, delivery) -> bytes:
        """The wire bytes for one delivery.

        Building MIME costs more than sending it, so each message is built once per batch with marks in
        place of the recipient, the Message-ID and the unsubscribe link, and the marks are replaced per
        recipient. When a mark does not survive encoding as plain text, it is built whole instead.
        """
        personal = bool(delivery.subscriber_id)
        key = (_content_key(delivery), personal)
        if key not in self._raw:
            email = self.build(delivery, recipient=RECIPIENT_MARK, message_id=MESSAGE_ID_MARK,
                               unsubscribe_url=UNSUBSCRIBE_MARK)
            template = email.message().as_bytes(linesep="\r\n")
            usable = template.count(RECIPIENT_MARK.encode()) == 1 and template.count(MESSAGE_ID_MARK.encode()) == 1
            usable = usable and template.count(UNSUBSCRIBE_MARK.encode()) == (3 if personal else 0)
            self._raw[key] = template if usable else None
        template = self._raw[key]
        if template is None or not delivery.recipient.isascii():
            return self.build(delivery).message().as_bytes(linesep="\r\n")
        raw = template.replace(RECIPIENT_MARK.encode(), delivery.recipient.encode())
        raw = raw.replace(MESSAGE_ID_MARK.encode(), _message_id(delivery).encode())
        if personal:
            url = unsubscribe_link(delivery.subscriber.unsubscribe_token)
            raw = raw.replace(UNSUBSCRIBE_MARK.encode(), url.encode())
        return raw

    def send(self, delivery) -> str:
        public = delivery.notice_id is not None or delivery.message.audience == Audience.PUBLIC
        if public and delivery.subscriber_id is None:
            raise DeliverySkipped("The subscriber unsubscribed before it was sent.")
        suppressed = self.suppressed if self.suppressed is not None else suppressed_addresses()
        if key(delivery.recipient) in suppressed:
            raise DeliverySkipped("The address is on the suppression list (it bounced or complained).")
        connection = self.connection or get_connection(fail_silently=False)
        try:
            if isinstance(connection, SMTPBackend):
                if connection.connection is None:
                    connection.open()  # Django's SMTP backend: host, port, TLS and login from the EMAIL_ settings
                connection.connection.sendmail(settings.DEFAULT_FROM_EMAIL, [delivery.recipient], self.raw(delivery))
            else:  # a provider's API (anymail), or file, console, in-memory backends: the plain Django path
                email = self.build(delivery)
                connection.send_messages([email])
                status = getattr(email, "anymail_status", None)
                if status is not None and status.message_id:
                    return str(status.message_id)[:200]  # the provider's id: what its tracking events name
        except AnymailRecipientsRefused as error:
            # The provider keeps its own list (a bounce or complaint there): keep the address off ours from now on.
            text = " ".join(str(error).split())[:300]
            suppress(delivery.recipient, Suppression.Reason.REJECTED, source=settings.EMAIL_PROVIDER, detail=text)
            raise TransportError(f"The provider refused the recipient: {text}", permanent=True) from None
        except AnymailError as error:
            raise provider_error(error) from None
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise TransportError(_smtp_text(code, reply), permanent=code >= 500) from None
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, …
            if error.smtp_code >= 500:
                raise TransportError(_smtp_text(error.smtp_code, error.smtp_error), permanent=True) from None
            self._reset(connection)
            raise TransportError(_smtp_text(error.smtp_code, error.smtp_error), permanent=False) from None
        except (smtplib.SMTPException, OSError) as error:
            self._reset(connection)
            raise TransportError(f"SMTP connection failed: {error}", permanent=False, channel_down=True) from None
        return _message_id(delivery)

    @staticmethod
    def _reset(connection):
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
            connection.connection = None


def unsubscribe_link(token: str) -> str:
    """SITE_URL + the unsubscribe page of this token: the URL is reversed once per process and site, not once per
    email (reverse() cost more than the rest of building an email from its template)."""
    head, tail = _unsubscribe_parts(settings.SITE_URL)
    return f"{head}{token}{tail}"


@lru_cache(maxsize=4)
def _unsubscribe_parts(site_url: str) -> tuple[str, str]:
    mark = "EARSTOKENMARK"
    head, _, tail = (site_url + reverse("status-unsubscribe", args=[mark])).partition(mark)
    return head, tail


def provider_error(error) -> TransportError:
    """An email provider's API error: 429 and 5xx (or no answer at all) may pass, another 4xx will not."""
    status = getattr(error, "status_code", None)
    retry_after = None
    response = getattr(error, "response", None)
    if response is not None and str(response.headers.get("Retry-After", "")).isdigit():
        retry_after = float(response.headers["Retry-After"])
    text = f"Email provider: {' '.join(str(error).split())[:300]}"
    if status is None or status == 429 or status >= 500:
        return TransportError(text, permanent=False, retry_after=retry_after, channel_down=status != 429)
    return TransportError(text, permanent=True)


def _content_key(delivery) -> tuple[str, int]:
    """What a delivery carries: a message, or a notice about a maintenance window."""
    return ("notice", delivery.notice_id) if delivery.notice_id else ("message", delivery.message_id)


def _message_id(delivery) -> str:
    return f"<{delivery.code}@ears.local>"


def _smtp_text(code: int, reply) -> str:
    reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"SMTP {code}: {reply}"


def _drop_unsubscribe(body: str) -> str:
    """Contacts and staff did not subscribe, so their copy has no unsubscribe footer."""
    return body.replace(UNSUBSCRIBE_MARK, settings.SITE_URL)
