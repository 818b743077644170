"""A visitor on a phone subscribes to SMS updates from the status page: number, code by SMS (a local fake of Twilio),
code typed back."""

import re

import pytest
from playwright.sync_api import expect

from comms.models import SmsSubscriber
from tests.factories import ComponentFactory
from tests.fakes.twilio import configured_twilio

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def twilio(settings):
    with configured_twilio(settings) as fake:
        yield fake


def test_a_visitor_on_a_phone_subscribes_by_sms_to_one_component_from_the_status_page(page, live_server, twilio):
    ComponentFactory(name="API")
    database = ComponentFactory(name="Database")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/status/")

    page.get_by_role("link", name="By text message (SMS)").click()
    expect(page.get_by_role("heading", name="Get updates by text message")).to_be_visible()
    page.get_by_label("Mobile number").fill("0161 496 0000")
    page.get_by_role("button", name="Text me a code").click()
    expect(page.get_by_text("international format").first).to_be_visible()
    assert twilio.sent == []

    page.get_by_label("Mobile number").fill("+44 (161) 496-0000")
    page.get_by_label("Database").check()
    page.get_by_role("button", name="Text me a code").click()
    expect(page.get_by_role("heading", name="Type the code we texted you")).to_be_visible()
    assert "496" not in page.content()
    [text] = twilio.sent
    code = re.search(r"\b(\d{6})\b", text["body"]).group(1)
    page.get_by_label("Code from the text message").fill(code)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Subscription confirmed")).to_be_visible()
    subscriber = SmsSubscriber.objects.get()
    assert subscriber.phone == "+441614960000" and subscriber.receives_updates
    assert list(subscriber.components.all()) == [database]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
