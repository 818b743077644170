"""Outages of the far side while real processes deliver: the subscribers' webhooks, then a social network, answer
503 and then refuse connections for a stretch before they recover (bench/resilience/outages.py, short variants:
retries back off from 1 s)."""

import pytest

from bench.resilience import outages

pytestmark = pytest.mark.integration
TIMEOUT = 90  # seconds a scenario may take before it counts what it has (a limit, never an assertion)


def test_every_subscriber_webhook_gets_the_update_once_after_an_outage_and_none_is_disabled_for_it(harness, incident):
    kinds = {"webhook": 40, "slack": 5, "discord": 5}
    result = outages.subscriber_webhook_outage(harness, incident, kinds, dead=2, unavailable_seconds=3,
                                               refused_seconds=2, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    hooks = result.counts["subscriber_hooks"]
    assert (hooks.rows, hooks.sent, hooks.failed, hooks.lost, hooks.duplicated, hooks.stuck) == (50, 48, 2, 0, 0, 0), (
        result.report())
    assert hooks.retried > 0  # the outage was felt
    assert result.states["subscriber_hooks"] == "partially_failed"  # the two deleted endpoints
    assert result.failures == [], result.report()  # incl. no live endpoint disabled or counting a failure


def test_updates_held_up_by_a_mastodon_outage_are_posted_once_each_in_order_as_one_thread(harness, incident):
    result = outages.social_network_outage(harness, incident, updates=3, spacing=1, unavailable_seconds=3,
                                           refused_seconds=2, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    for update in ("update 1", "update 2", "update 3"):
        counts = result.counts[update]
        assert (counts.sent, counts.lost, counts.duplicated, counts.stuck) == (1, 0, 0, 0), result.report()
    assert result.counts["update 1"].retried == 1  # it was tried through the outage …
    assert result.counts["update 2"].retried == result.counts["update 3"].retried == 0  # … the others waited for it
    assert result.facts["thread"] == "update 1 → update 2 → update 3"
    assert result.failures == [], result.report()  # incl. each a reply to the one before


def test_updates_held_up_by_a_bluesky_outage_are_posted_once_each_in_order_as_one_thread(harness, incident):
    result = outages.social_network_outage(harness, incident, updates=3, spacing=1, unavailable_seconds=3,
                                           refused_seconds=2, timeout=TIMEOUT, network="bluesky")
    print(result.report())  # shown when the test fails

    for update in ("update 1", "update 2", "update 3"):
        counts = result.counts[update]
        assert (counts.sent, counts.lost, counts.duplicated, counts.stuck) == (1, 0, 0, 0), result.report()
    assert result.counts["update 1"].retried >= 1  # it was tried through the outage …
    assert result.counts["update 2"].retried == result.counts["update 3"].retried == 0  # … the others waited for it
    assert result.facts["thread"] == "update 1 → update 2 → update 3"
    assert result.failures == [], result.report()  # incl. each a reply to the one before
