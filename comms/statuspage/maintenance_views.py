"""The public maintenance documents (no login), cached like the rest of the status page (comms.statuspage.cache):
the Statuspage-compatible JSON and the iCalendar feed."""

from django.contrib.auth.decorators import login_not_required
from django.views.decorators.http import require_safe

from comms.statuspage import maintenance
from comms.statuspage.views import _cached_document, _json_view

scheduled_maintenances_json = _json_view("maintenances.json", maintenance.scheduled_maintenances)
upcoming_maintenances_json = _json_view("maintenances-upcoming.json",
                                        lambda: maintenance.scheduled_maintenances("upcoming"))
active_maintenances_json = _json_view("maintenances-active.json", lambda: maintenance.scheduled_maintenances("active"))


@login_not_required
@require_safe
def maintenance_calendar(request):
    response = _cached_document(request, "maintenance.ics", lambda: maintenance.calendar().decode(),
                                "text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="maintenance.ics"'
    return response
