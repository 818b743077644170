"""The review queue with many mentions: compact rows (label, score, author and source, the first line of the text,
incident, state, assignee, a link and the actions), fifty to a page, and the filters kept in every page link and
after acting on a mention."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from sentiment.choices import Label
from sentiment.models import Mention
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

FILTERS = {"filtered": "1", "source": "x", "label": "negative", "state": "all", "sort": "negative", "reason": "refund"}
QUERY = "&".join(f"{name}={value}" for name, value in FILTERS.items())


@pytest.fixture
def queue_of_120(support):
    """120 matching mentions from X, each a few paragraphs long, plus some that the filters leave out."""
    incident = IncidentFactory(title="Checkout down", severity="SEV3")
    now = timezone.now()
    long_text = "Where is my refund? The checkout charged me twice.\n" + "It is still broken. " * 60
    Mention.objects.bulk_create([
        Mention(source="x", external_id=f"post-{n}", author_handle=f"customer{n}", author_name=f"Customer {n}",
                text=f"#{n} {long_text}", posted_at=now - timezone.timedelta(minutes=n), compound=-0.5 - n / 1000,
                neg=0.5, neu=0.5, pos=0.0, label=Label.NEGATIVE, flagged=True, scored_at=now,
                flag_reasons=["Keywords: refund"], incident=incident if n % 2 else None)
        for n in range(120)
    ] + [
        Mention(source="email", external_id=f"mail-{n}", author_name="By email", text="Refund please",
                posted_at=now, compound=-0.9, label=Label.NEGATIVE, flagged=True, flag_reasons=["Keywords: refund"])
        for n in range(7)
    ])
    return incident


def rows(content: str) -> dict[int, str]:
    return {int(pk): row for pk, row in re.findall(r'<li class="mention-row[^"]*" id="mention-(\d+)">(.*?)</li>',
                                                     content, flags=re.S)}


def page_links(content: str) -> list[dict]:
    """The query of every link on the page that goes to another page of the queue."""
    hrefs = [html.unescape(href) for href in re.findall(r'href="(\?[^"]*)"', content)]
    return [parse_qs(urlsplit(href).query) for href in hrefs if "page=" in href]


def test_a_queue_of_120_mentions_is_compact_rows_fifty_to_a_page(client, support, queue_of_120):
    client.force_login(support)
    content = client.get(f"/mentions/?{QUERY}").content.decode()
    shown = rows(content)
    assert len(shown) == 50
    assert "Showing 1–50 of 120" in content
    for pk, row in shown.items():
        mention = Mention.objects.get(pk=pk)
        assert mention.source == "x"
        assert '<span class="mlabel mlabel-negative">Negative</span>' in row
        assert '<span class="score score-negative"' in row
        assert f"@{mention.author_handle}" in row and '<span class="source">X</span>' in row
        assert '<span class="mstate mstate-new">New</span>' in row and "Assignee" in row
        assert f'href="/mentions/{pk}/?next=' in row and f'action="/mentions/{pk}/assign/"' in row
        assert (f'href="/incidents/{queue_of_120.pk}/"' in row) == (mention.incident_id is not None)
        # The text is cut short (the stylesheet shows its first line); never the whole of a long mention.
        text = re.search(r'<p class="mention-text"[^>]*>(.*?)</p>', row, flags=re.S).group(1)
        assert text.startswith(f"#{mention.external_id.split('-')[1]} Where is my refund?")
        assert len(text) < 400 < len(mention.text)


def test_every_page_link_keeps_the_filters(client, support, queue_of_120):
    client.force_login(support)
    seen = []
    for number, expected in [(1, 50), (2, 50), (3, 20)]:
        content = client.get(f"/mentions/?{QUERY}&page={number}").content.decode()
        assert len(rows(content)) == expected
        links = page_links(content)
        assert links, f"page {number} has no links to the other pages"
        for query in links:
            assert {name: values for name, values in query.items() if name != "page"} == {
                name: [value] for name, value in FILTERS.items()
            }
        seen += [int(query["page"][0]) for query in links]
    assert set(seen) == {1, 2, 3}
    first_of_page_two = Mention.objects.filter(source="x").order_by("compound", "-posted_at")[50]
    assert f'id="mention-{first_of_page_two.pk}"' in client.get(f"/mentions/?{QUERY}&page=2").content.decode()


def test_acting_on_a_mention_returns_to_the_same_filtered_page(client, support, queue_of_120):
    client.force_login(support)
    url = f"/mentions/?{QUERY}&page=2"
    content = client.get(url).content.decode()
    pk, row = next(iter(rows(content).items()))
    back = html.unescape(re.search(r'<input type="hidden" name="next" value="([^"]*)">', row).group(1))
    assert back == url
    bulk_back = re.search(r'id="bulk".*?name="next" value="([^"]*)"', content, flags=re.S).group(1)
    assert html.unescape(bulk_back) == url

    response = client.post(f"/mentions/{pk}/assign/", {"next": back})
    assert (response.status_code, response["Location"]) == (302, url)
    after = client.get(response["Location"])
    assert "assigned to you (in review)" in after.content.decode()
    assert after.context["page"].number == 2
    assert after.context["form"].cleaned_data["source"] == "x"

    response = client.post(f"/mentions/{pk}/dismiss/", {"next": back, "reason": "Duplicate"})
    assert response["Location"] == url
    response = client.post("/mentions/bulk/", {"next": bulk_back, "action": "assign", "ids": [pk]})
    assert html.unescape(response["Location"]) == url


def test_a_mention_opened_from_a_filtered_queue_page_leads_back_to_that_page(client, support):
    from django.utils import timezone

    from sentiment.models import Mention

    item = Mention.objects.create(source="api", external_id="back-1", text="down", posted_at=timezone.now(),
                                  flagged=True, label="negative")
    client.force_login(support)
    queue = client.get("/mentions/?label=negative&page=1").content.decode()
    assert f"/mentions/{item.pk}/?next=/mentions/%3Flabel%3Dnegative%26page%3D1" in queue
    detail = client.get(f"/mentions/{item.pk}/", {"next": "/mentions/?label=negative&page=1"}).content.decode()
    assert 'href="/mentions/?label=negative&amp;page=1">Back to the queue' in detail
    elsewhere = client.get(f"/mentions/{item.pk}/", {"next": "https://evil.example/"}).content.decode()
    assert 'href="/mentions/">Back to the queue' in elsewhere
