"""The uptime arithmetic (incidents.uptime) on constructed histories: no database."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from incidents import uptime
from incidents.uptime import IncidentWindow, Span, StatusChange

BERLIN = ZoneInfo("Europe/Berlin")
OP, DEGRADED, PARTIAL, MAJOR, MAINTENANCE = (
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance",
)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3, zone=UTC) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def change(moment, old, new) -> StatusChange:
    return StatusChange(moment, old, new)


def test_a_component_without_changes_has_its_current_status_throughout():
    spans = uptime.spans([], current_status=OP, start=at(1), end=at(2))
    assert spans == [Span(at(1), at(2), OP)]
    assert uptime.uptime_percent(spans, at(1), at(2)) == Decimal("100.00")


def test_an_hour_of_major_outage_in_a_day_is_sixty_minutes_down():
    changes = [change(at(1, 10), OP, MAJOR), change(at(1, 11), MAJOR, OP)]
    spans = uptime.spans(changes, current_status=OP, start=at(1), end=at(2))
    assert [span.status for span in spans] == [OP, MAJOR, OP]
    assert uptime.down_minutes(spans, at(1), at(2)) == 60
    assert uptime.uptime_percent(spans, at(1), at(2)) == Decimal("95.83")  # 1 − 60/1440, rounded down


def test_partial_outage_counts_three_tenths_and_degraded_performance_none():
    changes = [change(at(1, 0), OP, PARTIAL), change(at(1, 1), PARTIAL, DEGRADED), change(at(1, 2), DEGRADED, OP)]
    spans = uptime.spans(changes, current_status=OP, start=at(1), end=at(2))
    assert uptime.down_minutes(spans, at(1), at(2)) == Decimal(18)  # 60 × 0.3 + 60 × 0


def test_maintenance_never_counts_as_downtime_but_colours_the_day():
    changes = [change(at(1, 2), OP, MAINTENANCE), change(at(1, 6), MAINTENANCE, OP)]
    spans = uptime.spans(changes, current_status=OP, start=at(1), end=at(2))
    (day,) = uptime.days(spans, date(2026, 3, 1), date(2026, 3, 1), UTC, now=at(5))
    assert (day.status, day.down_minutes, day.uptime_percent) == (MAINTENANCE, 0, Decimal("100.00"))


def test_the_status_at_the_window_start_comes_from_a_change_before_it():
    changes = [change(at(1, 12), OP, MAJOR), change(at(3, 12), MAJOR, OP)]
    spans = uptime.spans(changes, current_status=OP, start=at(2), end=at(4))
    assert spans == [Span(at(2), at(3, 12), MAJOR), Span(at(3, 12), at(4), OP)]


def test_without_an_earlier_change_the_start_is_what_the_first_change_moved_away_from():
    spans = uptime.spans([change(at(2, 6), PARTIAL, OP)], current_status=OP, start=at(2), end=at(3))
    assert spans[0] == Span(at(2), at(2, 6), PARTIAL)


def test_a_first_change_from_an_unknown_status_leaves_no_data_before_it():
    spans = uptime.spans([change(at(2, 6), "", MAJOR)], current_status=MAJOR, start=at(2), end=at(2, 12))
    assert spans == [Span(at(2), at(2, 6), None), Span(at(2, 6), at(2, 12), MAJOR)]
    assert uptime.uptime_percent(spans, at(2), at(2, 12)) == Decimal("0.00")  # six hours of data, all down


def test_an_open_ended_current_status_runs_to_the_end_asked_for():
    spans = uptime.spans([change(at(5, 23), OP, MAJOR)], current_status=MAJOR, start=at(5), end=at(6, 1))
    assert spans[-1] == Span(at(5, 23), at(6, 1), MAJOR)
    days = uptime.days(spans, date(2026, 3, 5), date(2026, 3, 6), UTC, now=at(6, 1))
    assert [(day.status, day.down_minutes) for day in days] == [(MAJOR, 60), (MAJOR, 60)]


def test_time_before_the_component_existed_is_no_data_not_uptime():
    spans = uptime.spans([], current_status=OP, start=at(1), end=at(3), known_since=at(2))
    days = uptime.days(spans, date(2026, 3, 1), date(2026, 3, 2), UTC, now=at(3))
    assert [day.status for day in days] == [None, OP]
    assert days[0].uptime_percent is None


def test_days_run_midnight_to_midnight_in_the_given_zone():
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin: the outage belongs to the 2nd there, to the 1st in UTC.
    changes = [change(at(1, 23, 30), OP, MAJOR), change(at(2, 0, 0), MAJOR, OP)]
    spans = uptime.spans(changes, current_status=OP, start=at(1) - timedelta(days=1), end=at(4))
    in_utc = uptime.days(spans, date(2026, 3, 1), date(2026, 3, 2), UTC, now=at(4))
    in_berlin = uptime.days(spans, date(2026, 3, 1), date(2026, 3, 2), BERLIN, now=at(4))
    assert [day.status for day in in_utc] == [MAJOR, OP]
    assert [day.status for day in in_berlin] == [OP, MAJOR]


@pytest.mark.parametrize(("day", "hours"), [(29, 23), (30, 24)])
def test_a_day_across_the_spring_dst_change_has_twenty_three_hours(day, hours):
    start, end = uptime.day_bounds(date(2026, 3, day), BERLIN)
    assert end - start == timedelta(hours=hours)
    spans = uptime.spans([], current_status=MAJOR, start=start - timedelta(days=1), end=end + timedelta(days=1))
    (summary,) = uptime.days(spans, date(2026, 3, day), date(2026, 3, day), BERLIN, now=end + timedelta(days=2))
    assert summary.down_minutes == hours * 60


def test_a_day_across_the_autumn_dst_change_has_twenty_five_hours():
    start, end = uptime.day_bounds(date(2026, 10, 25), BERLIN)
    assert end - start == timedelta(hours=25)


def test_each_day_lists_the_incidents_that_overlapped_it_an_open_one_until_now():
    spans = uptime.spans([], current_status=OP, start=at(1), end=at(4))
    closed = IncidentWindow(1, "Slow logins", at(1, 22), at(2, 1))
    still_open = IncidentWindow(2, "Payments failing", at(3, 9), None)
    days = uptime.days(spans, date(2026, 3, 1), date(2026, 3, 3), UTC, [closed, still_open], now=at(3, 10))
    assert [[incident.id for incident in day.incidents] for day in days] == [[1], [1], [2]]


def test_a_group_is_as_bad_as_its_worst_component_at_each_moment():
    api = uptime.spans([change(at(1, 10), OP, PARTIAL), change(at(1, 12), PARTIAL, OP)], current_status=OP,
                       start=at(1), end=at(2))
    payments = uptime.spans([change(at(1, 11), OP, MAJOR), change(at(1, 13), MAJOR, OP)], current_status=OP,
                            start=at(1), end=at(2))
    group = uptime.combined([api, payments])
    assert [(span.start.hour, span.status) for span in group] == [(0, OP), (10, PARTIAL), (11, MAJOR), (13, OP)]
    assert uptime.down_minutes(group, at(1), at(2)) == Decimal(18 + 120)  # 60 min partial, then 120 major


def test_a_group_leaves_out_components_without_data():
    new = uptime.spans([], current_status=MAJOR, start=at(1), end=at(3), known_since=at(2))
    old = uptime.spans([], current_status=OP, start=at(1), end=at(3))
    group = uptime.combined([new, old])
    assert group == [Span(at(1), at(2), OP), Span(at(2), at(3), MAJOR)]


def test_the_worst_status_orders_outages_above_maintenance_above_operational():
    assert uptime.worst_status([OP, MAINTENANCE]) == MAINTENANCE
    assert uptime.worst_status([MAINTENANCE, DEGRADED, PARTIAL]) == PARTIAL
    assert uptime.worst_status([None, OP]) == OP
    assert uptime.worst_status([]) == OP


def test_a_minute_of_downtime_never_reads_as_a_hundred_percent():
    spans = uptime.spans([change(at(1, 10), OP, MAJOR), change(at(1, 10, 1), MAJOR, OP)], current_status=OP,
                         start=at(1) - timedelta(days=89), end=at(1) + timedelta(days=1))
    assert uptime.uptime_percent(spans, spans[0].start, spans[-1].end) == Decimal("99.99")
    (day,) = uptime.days(spans, date(2026, 3, 1), date(2026, 3, 1), UTC, now=at(5))
    assert day.minutes_down_whole == 1


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        uptime.spans([], current_status=OP, start=datetime(2026, 3, 1), end=at(2))
