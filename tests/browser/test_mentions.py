import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sentiment.models import Mention
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_celery(settings):
    """No worker in this test: anything the actions enqueue runs in the web request."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def flagged(handle: str, text: str, minutes_ago: int) -> Mention:
    now = timezone.now()
    return Mention.objects.create(
        source="x", external_id=f"post-{handle}", author_handle=handle, text=text,
        posted_at=now - timezone.timedelta(minutes=minutes_ago), compound=-0.8, neg=0.5, neu=0.5, pos=0.0,
        label="negative", flagged=True, flag_reasons=["Very negative: compound -0.80 ≤ -0.50"], scored_at=now,
    )


def test_support_assigns_responds_to_and_dismisses_flagged_mentions(browser, live_server, support, eager_celery):
    to_assign = flagged("anna", "Checkout keeps failing for me", 3)
    to_answer = flagged("ben", "Where is my refund? Still broken", 2)
    to_dismiss = flagged("spammy", "Buy followers cheap, total outage lol", 1)

    page = browser.new_page()
    sign_in(page, live_server.url, "support")
    page.get_by_role("link", name="Mentions", exact=True).click()
    rows = page.locator("li.mention-row")
    expect(rows).to_have_count(3)

    # 1. Assign the first to myself: it stays in the queue, now in review and mine.
    row = rows.filter(has_text="Checkout keeps failing for me")
    row.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status").first).to_contain_text("Mention from @anna assigned to you (in review).")
    expect(row.locator(".mstate")).to_have_text("In review")
    expect(row.locator(".assignee")).to_contain_text("support")

    # 2. Respond to the second: it leaves the open queue.
    row = rows.filter(has_text="Where is my refund?")
    row.get_by_text("Respond", exact=True).click()
    row.get_by_label("Your response").fill("Sorry Ben, the refund went out this morning.")
    row.get_by_role("button", name="Save response").click()
    expect(page.get_by_role("status").first).to_contain_text("Response to @ben recorded (responded).")
    expect(rows.filter(has_text="Where is my refund?")).to_have_count(0)

    # 3. Dismiss the third with a reason.
    row = rows.filter(has_text="Buy followers cheap")
    row.get_by_text("Dismiss", exact=True).click()
    row.get_by_label("Why it needs no action").select_option(label="Not about us, or spam")
    row.get_by_label("More detail (optional)").fill("Selling followers")
    row.get_by_role("button", name="Dismiss mention").click()
    expect(page.get_by_role("status").first).to_contain_text("Mention from @spammy dismissed (Not about us, or spam).")
    expect(rows).to_have_count(1)

    # All states: each shows where it ended up, and so does the database.
    page.get_by_label("State").select_option(label="All states")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Checkout keeps failing for me").locator(".mstate")).to_have_text("In review")
    expect(rows.filter(has_text="Where is my refund?").locator(".mstate")).to_have_text("Responded")
    expect(rows.filter(has_text="Buy followers cheap").locator(".mstate")).to_have_text("Dismissed")

    states = {m.pk: (m.review_state, m.assignee_id, m.review_note) for m in Mention.objects.all()}
    assert states == {
        to_assign.pk: ("in_review", support.pk, ""),
        to_answer.pk: ("responded", support.pk, "Sorry Ben, the refund went out this morning."),
        to_dismiss.pk: ("dismissed", None, "Selling followers"),
    }
    page.close()
