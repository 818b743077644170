"""Customer messages first: the short variant of bench/resilience's ingest-flood scenario. The Procfile's layout (a
worker for the deliveries queue alone, another for the default and ingest queues), a fan-out published on a quiet
system, then the same fan-out published while mentions posted to the bulk API wait to be scored."""

import pytest

from bench.resilience import scenarios
from tests.resilience.conftest import SUBSCRIBERS

pytestmark = pytest.mark.integration
MENTIONS = 6_000  # 300 of them long: scoring them takes several times as long as the fan-out
TIMEOUT = 90  # seconds a fan-out may take before it counts what it has (a limit, never an assertion)


def test_an_update_published_during_an_ingest_flood_goes_out_before_the_waiting_mentions_are_scored(
    harness, incident
):
    # Timings are the full-size run's business (docs/reliability.md); here, counts and the order of events.
    result = scenarios.ingest_flood(harness, incident, SUBSCRIBERS, MENTIONS, publish_after=0.5, max_ratio=None,
                                    outlast=False, timeout=TIMEOUT, flood_timeout=240)
    print(result.report())  # shown when the test fails

    for fan_out in ("without the flood", "with the flood"):
        email = result.counts[fan_out]
        assert (email.rows, email.sent, email.lost, email.duplicated, email.stuck) == (
            SUBSCRIBERS, SUBSCRIBERS, 0, 0, 0), result.report()
        assert result.states[fan_out] == "sent"
    # incl. every mention stored once and scored, and the first email sent while mentions stored before the
    # publish still waited to be scored (on one shared queue they would have been scored first)
    assert result.failures == [], result.report()
