"""What the far side refused travels on TransportError.refusal, which the polls read to stop (a rate limit, a
refused token or permission) or to pass over one thread or post; the message's wording is for people only."""

import pytest
import requests

from comms.channels.base import Refusal
from comms.channels.facebook import graph_error
from comms.channels.linkedin import rest_error


def answer(status: int, body: bytes = b"{}", headers=None) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(("status", "refusal"), [(429, Refusal.RATE_LIMIT), (401, Refusal.TOKEN),
                                                 (403, Refusal.PERMISSION), (404, None), (503, None)])
def test_linkedin_says_which_refusal_an_answer_was(status, refusal):
    assert rest_error(answer(status, b'{"message": "no"}'), "read comments").refusal == refusal


@pytest.mark.parametrize(("status", "code", "refusal"), [(400, 4, Refusal.RATE_LIMIT), (429, None, Refusal.RATE_LIMIT),
                                                         (400, 190, Refusal.TOKEN), (403, 200, Refusal.PERMISSION),
                                                         (400, 100, None), (500, None, None)])
def test_facebook_says_which_refusal_an_answer_was(status, code, refusal):
    body = b'{"error": {"message": "no", "code": %d}}' % code if code is not None else b"{}"
    assert graph_error(answer(status, body), "read comments").refusal == refusal
