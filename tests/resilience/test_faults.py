"""Faults injected while real processes deliver: each test runs one scenario of bench/resilience and asserts
its exact counts per recipient (the scenario's own expectations are listed in its report on failure)."""

import pytest

from bench.resilience import scenarios
from tests.resilience.conftest import SUBSCRIBERS

pytestmark = pytest.mark.integration
TIMEOUT = 90  # seconds a scenario may take before it counts what it has (a limit, never an assertion)


def test_a_worker_killed_mid_fan_out_leaves_no_one_out_and_repeats_at_most_one_delivery_per_batch_in_flight(
    harness, incident
):
    result = scenarios.worker_killed(harness, incident, SUBSCRIBERS, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    email = result.counts["email"]
    assert (email.rows, email.sent, email.lost, email.failed, email.stuck) == (SUBSCRIBERS, SUBSCRIBERS, 0, 0, 0), (
        result.report())
    assert result.states["email"] == "sent"
    assert result.failures == [], result.report()  # every repeat was in flight in the dead worker, one per batch


def test_a_broker_restart_mid_fan_out_still_delivers_each_update_exactly_once(harness, incident):
    result = scenarios.broker_restart(harness, incident, SUBSCRIBERS, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    email = result.counts["email"]
    assert (email.sent, email.lost, email.duplicated, email.failed, email.stuck) == (SUBSCRIBERS, 0, 0, 0, 0), (
        result.report())
    assert result.states["email"] == "sent"
    assert result.failures == [], result.report()


def test_channel_outages_are_retried_until_they_pass_and_permanent_refusals_fail_with_the_reason(harness, incident):
    result = scenarios.channel_outage(harness, incident, SUBSCRIBERS, refused=5, outage_seconds=2,
                                      unavailable_times=2, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    email = result.counts["email"]
    assert (email.sent, email.failed, email.lost, email.duplicated, email.stuck) == (SUBSCRIBERS - 5, 5, 0, 0, 0), (
        result.report())
    assert email.errors == {"SMTP 550: 5.1.1 No such user here": 5}
    assert email.retried > 0
    assert result.states == {"email": "partially_failed", "x [x-429]": "sent", "x [x-503]": "sent",
                             "x [x-403]": "failed"}
    assert result.facts["x [x-429] answers"] == "429 → 201"
    assert result.facts["x [x-503] answers"] == "503 → 503 → 201"
    assert result.facts["x [x-403] answers"] == "403"
    assert result.failures == [], result.report()  # incl. the post after a 429 came after X's reset time


def test_a_database_blip_mid_batch_neither_loses_nor_repeats_a_delivery(harness, incident):
    result = scenarios.database_blip(harness, incident, SUBSCRIBERS, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    email = result.counts["email"]
    assert (email.sent, email.lost, email.duplicated, email.failed, email.stuck) == (SUBSCRIBERS, 0, 0, 0, 0), (
        result.report())
    assert result.states["email"] == "sent"
    assert result.failures == [], result.report()  # incl. that the blips hit live worker sessions


def test_two_beat_processes_dispatch_and_deliver_each_update_once(harness, incident):
    result = scenarios.beat_twice(harness, incident, SUBSCRIBERS, messages=2, spacing=1, timeout=TIMEOUT)
    print(result.report())  # shown when the test fails

    for update in ("update 1", "update 2"):
        counts = result.counts[update]
        assert (counts.sent, counts.lost, counts.duplicated, counts.stuck) == (SUBSCRIBERS, 0, 0, 0), result.report()
        assert result.states[update] == "sent"
    assert result.failures == [], result.report()  # incl. one "Sending" timeline entry per update
