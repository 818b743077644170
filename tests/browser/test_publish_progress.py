"""After 'Publish now' the message page follows the sending live: the badge says it is going out, the live region
counts deliveries as they go out, and the deliveries appear when it is sent, without anyone reloading the page."""

import pytest
from playwright.sync_api import expect

from comms import delivery
from comms.choices import DeliveryStatus
from comms.models import Delivery, Message
from tests.browser.conftest import sign_in
from tests.comms.helpers import confirmed_subscribers
from tests.factories import ComponentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = "We are investigating a problem with Payments"


@pytest.fixture
def no_worker(settings):
    """Nothing sends in the web request: publishing leaves the message due, and this test plays beat and the
    worker, running dispatch and sending in its own process while the page watches."""
    settings.CELERY_TASK_ALWAYS_EAGER = False  # Celery reads it from Django's settings, as eager_celery sets it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_support_publishes_the_acknowledgement_and_watches_it_go_out_without_reloading(
    browser, live_server, support, lead, default_data, no_worker
):
    from incidents import services

    incident = services.create_incident(
        actor=lead, title="Card payments failing", severity="SEV2", components=[ComponentFactory(name="Payments")]
    )
    confirmed_subscribers(3, prefix="watcher")

    page = browser.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server.url, "support")
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    page.get_by_role("link", name="Write an update").click()
    page.get_by_label("Start from a template").select_option(
        label="Initial acknowledgement: Initial acknowledgement (pre-approved)"
    )
    page.get_by_role("button", name="Use template").click()
    expect(page.get_by_label("Headline")).to_have_value(HEADLINE)
    page.get_by_role("button", name="Publish now").click()

    # The message page, right after publishing: going out, nothing contradicts it.
    message = Message.objects.get(headline=HEADLINE)
    page.wait_for_url(f"{live_server.url}{message.get_absolute_url()}")
    badge = page.locator("#message-state .state")
    live = page.locator("[data-progress-text]")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(badge).to_have_text("Going out now")
    expect(live).to_have_text("Going out now…")
    expect(page.get_by_role("button", name="Send now")).to_have_count(0)
    expect(page.get_by_text("Nothing has been sent yet")).to_have_count(0)
    page.evaluate("window.notReloaded = true")  # gone if the page is reloaded

    # Beat claims it and fans it out; the page notices by itself.
    assert delivery.dispatch_due_messages() == [message.pk]
    queued = list(Delivery.objects.filter(message=message, status=DeliveryStatus.QUEUED)
                  .order_by("pk").values_list("pk", flat=True))
    assert len(queued) == 4  # the status page and three subscribers
    expect(badge).to_have_text("Sending")
    expect(live).to_have_text("Sent 0 of 4…")

    # A worker sends some, then the rest.
    delivery.send_deliveries(queued[:2])
    expect(live).to_have_text("Sent 2 of 4…")
    delivery.send_deliveries(queued[2:])
    expect(live).to_have_text("Finished: sent 4 of 4.")
    expect(badge).to_have_text("Sent")

    # The deliveries section is the server's again, now with the rows; the page itself was never reloaded.
    expect(page.locator("#deliveries table.deliveries tbody tr")).to_have_count(4)
    expect(page.get_by_role("link", name="Refresh")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert Message.objects.get(pk=message.pk).state == "sent"
    page.close()
