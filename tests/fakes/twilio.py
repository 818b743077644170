"""A fake Twilio REST API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json as Twilio documents it.

Form body To, From or MessagingServiceSid, Body; HTTP basic auth AccountSid:AuthToken (20003 otherwise). Answers 201
with the message resource ({sid: "SM…", status: "queued", to, from, body, num_segments, …}) and Twilio's error
shape ({code, message, more_info, status}) for a refused one: 21211 for a number that is not E.164, 21610 for a
number in `invalid`, 21610 for one in `opted_out` (it replied STOP), 21614 for one in
`landlines`. `fail_next` makes the next calls fail
(429, 5xx) before answering normally again; `sign` computes X-Twilio-Signature for an inbound webhook.
"""

import base64
import itertools
import re
from contextlib import contextmanager

from twilio.request_validator import RequestValidator

from comms import sms_text
from tests.fakes import Answer, FakeServer

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-twilio-auth-token"
FROM_NUMBER = "+15005550006"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def twilio_error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it for a webhook it calls."""
    return RequestValidator(token).compute_signature(url, params)


class FakeTwilio(FakeServer):
    def __init__(self):
        super().__init__()
        self.sent: list[dict] = []  # every message accepted, in order
        self.opted_out: set[str] = set()
        self.landlines: set[str] = set()
        self.invalid: set[str] = set()  # E.164 in form, but no such number
        self.sids = itertools.count(1)

    def texts_to(self, number: str) -> list[str]:
        return [message["body"] for message in self.sent if message["to"] == number]

    def route(self, method, path, query, headers, body):
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if headers.get("authorization") != expected:
            raise Answer(401, twilio_error(401, 20003, "Authenticate"))
        if method != "POST" or path != MESSAGES_PATH:
            raise Answer(404, twilio_error(404, 20404, f"The requested resource {path} was not found"))
        body = body or {}
        to, text = body.get("To", ""), body.get("Body", "")
        if not body.get("From") and not body.get("MessagingServiceSid"):
            raise Answer(400, twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required."))
        if not re.fullmatch(r"\+[1-9][0-9]{7,14}", to) or to in self.invalid:
            raise Answer(400, twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}"))
        if to in self.opted_out:
            raise Answer(400, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"))
        if to in self.landlines:
            raise Answer(400, twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number"))
        if not text:
            raise Answer(400, twilio_error(400, 21602, "Message body is required."))
        message = {
            "sid": f"SM{next(self.sids):032x}", "account_sid": ACCOUNT_SID, "status": "queued", "to": to,
            "from": body.get("From"), "messaging_service_sid": body.get("MessagingServiceSid"), "body": text,
            "num_segments": str(sms_text.segment_count(text)), "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": "Mon, 07 Dec 2026 09:00:00 +0000", "error_code": None, "error_message": None,
            "uri": f"{MESSAGES_PATH[:-5]}/SM.json",
        }
        self.sent.append(message)
        return 201, message


@contextmanager
def configured_twilio(settings):
    """A FakeTwilio, and the settings that make EARS send text messages through it (pytest-django's settings)."""
    with FakeTwilio() as fake:
        settings.TWILIO_CONFIGURED = True
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_MESSAGING_SERVICE_SID = FROM_NUMBER, ""
        settings.TWILIO_API_BASE_URL = fake.url
        yield fake
