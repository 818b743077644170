import pytest
from playwright.sync_api import expect

from comms.models import Message
from comms.rendering import x_weighted_length
from incidents import services
from tests.browser.conftest import sign_in
from tests.factories import ComponentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_composer_previews_every_channel_and_the_warnings_as_you_type(page, live_server, lead, default_data):
    incident = services.create_incident(actor=lead, title="Checkout down", severity="SEV2",
                                        components=[ComponentFactory(name="Payments")])
    sign_in(page, live_server.url, "lead")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/messages/new/")

    page.get_by_label("Headline").fill("Payments <b>failing</b>")
    page.get_by_label("Phase").select_option("resolution")
    page.get_by_label("Explain").fill("A DNS change broke card payments; it is fixed now.")

    preview = page.locator("[data-preview-root]")
    expect(preview.locator('[data-preview="email-subject"]')).to_have_text(
        "[Investigating] Checkout down: Payments <b>failing</b>")  # shown as text, never as markup
    expect(preview.locator('[data-preview="x-text"]')).to_contain_text("Payments <b>failing</b> — A DNS change")
    shown = preview.locator('[data-preview="x-text"]').text_content()
    expect(preview.locator('[data-preview="x-length"]')).to_have_text(f"{x_weighted_length(shown)}/280")
    lint = preview.locator('[data-preview="lint"]')
    expect(lint).to_contain_text("“DNS” is jargon")
    expect(lint).to_contain_text("should thank customers")
    assert preview.locator("b").count() == 0  # the headline's tag was not rendered as HTML
    assert not Message.objects.exists()  # previews store nothing
