
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from comms import delivery, messaging
from comms.models import Message
from tests.browser.conftest import sign_in
from tests.factories import ComponentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_celery(settings):
    """No worker in this test: tasks run where they are sent (dispatch and sending run in the web request)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_support_publishes_the_acknowledgement_and_a_lead_approves_a_scheduled_update(
    browser, live_server, support, lead, eager_celery, default_data
):
    from incidents import services

    incident = services.create_incident(
        actor=lead, title="Card payments failing", severity="SEV1", components=[ComponentFactory(name="Payments")]
    )

    # 1. Support: the pre-approved acknowledgement, unchanged, goes out at once.
    page = browser.new_page()
    sign_in(page, live_server.url, "support")
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    page.get_by_role("link", name="Write an update").click()
    template = "Initial acknowledgement: Initial acknowledgement (pre-approved)"
    page.get_by_label("Start from a template").select_option(label=template)
    page.get_by_role("button", name="Use template").click()
    expect(page.get_by_label("Headline")).to_have_value("We are investigating a problem with Payments")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status").first).to_contain_text("Published")
    ack = Message.objects.get(headline="We are investigating a problem with Payments")
    assert (ack.state, ack.approver, ack.author) == ("sent", support, support)

    # 2. Another user's update, scheduled ahead (far enough for a slow sign-in), waits for a lead's approval.
    writer = UserFactory(username="writer", role="Communications lead")
    update = messaging.create_message(
        incident=incident, author=writer, headline="We found the cause of the payment failures",
        explain="A configuration change broke EU card payments; we are reversing it.",
        acknowledge="We are sorry that you could not take payments.", channels=["statuspage"],
        scheduled_for=timezone.now() + timezone.timedelta(minutes=5),
    )
    messaging.submit(update, actor=writer)

    lead_page = browser.new_page()
    sign_in(lead_page, live_server.url, "lead")
    lead_page.get_by_role("link", name="Approvals").click()
    row = lead_page.locator("li.approval-row").filter(has_text="We found the cause of the payment failures")
    row.get_by_role("button", name="Approve").click()
    expect(lead_page.get_by_role("status").first).to_contain_text("Approved; it goes out at")
    assert Message.objects.get(pk=update.pk).state == "scheduled"

    assert delivery.dispatch_due_messages() == []  # not due yet
    Message.objects.filter(pk=update.pk).update(scheduled_for=timezone.now())  # its time comes
    assert delivery.dispatch_due_messages() == [update.pk]  # what beat does every few seconds

    # 3. Both are on the public status page, newest first, for anyone.
    public = browser.new_page()
    public.goto(f"{live_server.url}/status/")
    updates = public.locator("article, li, section").filter(has_text="Card payments failing").first
    expect(updates).to_contain_text("We found the cause of the payment failures")
    expect(updates).to_contain_text("We are investigating a problem with Payments")
    text = public.content()
    assert text.index("We found the cause") < text.index("We are investigating a problem")
    for p in (page, lead_page, public):
        p.close()
