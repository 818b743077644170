"""Email to staff (reminders, alerts, escalations). A notification that cannot be sent never stops the work
that triggered it: the failure is logged and returned as a sentence, for the caller to put on a timeline."""

import logging
import smtplib

from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.mail import BadHeaderError, send_mail

from core.suppression import without_suppressed
from core.words import one_line

log = logging.getLogger(__name__)


def notify_people(subject: str, body: str, recipients: list[str]) -> str | None:
    """Email these people. Returns None when sent (or nobody to send to), else why it failed. The subject is made
    one line here, whatever names from data it carries. Addresses on the suppression list are left out."""
    recipients = without_suppressed(recipients)
    if not recipients:
        return None
    subject = one_line(subject)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (smtplib.SMTPException, OSError, BadHeaderError, AnymailError) as error:
        log.warning("notification %r could not be emailed: %s", subject, error)
        return f"the email could not be sent ({type(error).__name__})"
    return None
