"""The board with many impacts: each column shows a page of cards with a link to more, the links keep the filters
and the other columns' pages, and closed impacts wait in a collapsed Closed column."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.views.board import PER_COLUMN
from tests.factories import AccountFactory, ImpactFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_impacts(manager):
    """89 impacts of the manager's accounts, as in the report: 45 identified, 4 contacted, 40 closed; and some of
    another tier that the filter leaves out."""
    incident = IncidentFactory(title="Checkout down")
    now = timezone.now()

    def impacts(count, state, tier="growth", name="Growth"):
        for n in range(count):
            ImpactFactory(incident=incident, state=state, account=AccountFactory(
                name=f"{name} {state} {n:02d}", owner=manager, tier=tier, arr=1_000_000 - n * 1_000),
                closed_at=now - timezone.timedelta(hours=n) if state == "closed" else None)

    impacts(45, "identified")
    impacts(4, "contacted")
    impacts(40, "closed")
    impacts(3, "identified", tier="strategic", name="Strategic")
    return incident


def board(client, query=""):
    response = client.get(f"/board/{query}")
    assert response.status_code == 200
    return response


def column(response, state) -> dict:
    return next(c for c in response.context["columns"] if c["state"] == state)


def names(response, state) -> list[str]:
    return [impact.account.name for impact in column(response, state)["impacts"]]


def link(content: str, text: str) -> str:
    """The href of the first link whose text starts with `text`."""
    return html.unescape(re.search(rf'<a href="([^"]*)">{re.escape(text)}', content).group(1))


def test_each_column_shows_at_most_a_page_of_cards_and_a_link_to_more(client, manager, many_impacts):
    client.force_login(manager)
    response = board(client, "?tier=growth")
    content = response.content.decode()
    assert PER_COLUMN == 20
    assert names(response, "identified") == [f"Growth identified {n:02d}" for n in range(20)]
    assert names(response, "contacted") == [f"Growth contacted {n:02d}" for n in range(4)]
    assert len(re.findall(r'<li class="board-card[" ]', content)) == 24
    assert "1–20 of 45" in content
    assert "Growth identified 20" not in content

    more = link(content, "20 more")
    assert parse_qs(urlsplit(more).query) == {"tier": ["growth"], "page_identified": ["2"]}
    second = board(client, more)
    assert names(second, "identified") == [f"Growth identified {n:02d}" for n in range(20, 40)]
    assert names(second, "contacted") == [f"Growth contacted {n:02d}" for n in range(4)]  # the others stay put

    last = board(client, link(second.content.decode(), "5 more"))
    assert names(last, "identified") == [f"Growth identified {n:02d}" for n in range(40, 45)]
    last_content = last.content.decode()
    assert "41–45 of 45" in last_content and " more" not in re.sub(r"<[^>]+>", "", last_content).split("Identified")[1]
    back = link(last_content, "← Previous")
    assert parse_qs(urlsplit(back).query) == {"tier": ["growth"], "page_identified": ["2"]}


def test_per_column_and_a_page_past_the_end_are_handled(client, manager, many_impacts):
    client.force_login(manager)
    assert len(names(board(client, "?per_column=50"), "identified")) == 48
    assert names(board(client, "?tier=growth&page_identified=99"), "identified")[0] == "Growth identified 40"
    assert len(names(board(client, "?page_identified=abc"), "identified")) == PER_COLUMN


def test_closed_impacts_wait_in_a_collapsed_column_that_opens_with_the_filters_kept(client, manager, many_impacts):
    client.force_login(manager)
    response = board(client, "?tier=growth")
    content = response.content.decode()
    closed = response.context["closed"]
    assert (closed["total"], closed["shown"], list(closed["impacts"])) == (40, False, [])
    assert '<h2 id="col-closed">Closed <small class="count-note">40</small></h2>' in content
    assert "Growth closed" not in content

    opened = board(client, link(content, "Show 40 closed"))
    assert opened.context["closed"]["shown"] is True
    opened_content = opened.content.decode()
    shown = [impact.account.name for impact in opened.context["closed"]["impacts"]]
    assert shown == [f"Growth closed {n:02d}" for n in range(20)]  # most recently closed first, a page of them
    assert 'name="closed" value="1"' in opened_content  # filtering again keeps it open
    assert names(opened, "identified")[0] == "Growth identified 00"

    more = link(opened_content, "20 more<span class=\"visually-hidden\"> closed")
    assert parse_qs(urlsplit(more).query) == {"tier": ["growth"], "closed": ["1"], "page_closed": ["2"]}
    assert [i.account.name for i in board(client, more).context["closed"]["impacts"]][0] == "Growth closed 20"
    hide = link(opened_content, "Hide closed")
    assert parse_qs(urlsplit(hide).query) == {"tier": ["growth"]}


def test_the_board_query_count_stays_the_same_with_the_closed_column_open(client, manager, many_impacts):
    client.force_login(manager)

    def queries(query):
        with CaptureQueriesContext(connection) as captured:
            board(client, query)
        return len(captured)

    few = queries("?closed=1&tier=strategic")
    assert queries("?closed=1&tier=growth") == few
