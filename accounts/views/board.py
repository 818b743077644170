"""My follow-up board: the open impacts an account manager owns (or whose account they own), one column per
state, overdue first and then by priority score. The queries are fixed in number: each column is one query
with its overdue flag (Exists), next due time and score annotated, and one more counts every column."""

from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.choices import OPEN_IMPACT_STATES, ImpactState
from accounts.forms import BoardFilterForm
from accounts.models import FollowUp, Impact
from accounts.priority import annotate_priority
from incidents.models import Incident

PER_COLUMN = 100  # cards shown per column; ?per_column= changes it, up to MAX_PER_COLUMN
MAX_PER_COLUMN = 500


def annotate_follow_ups(impacts, now=None):
    """overdue: an open follow-up was due at or before now; next_due: the earliest open follow-up's due time."""
    now = now or timezone.now()
    open_follow_ups = FollowUp.objects.filter(impact=OuterRef("pk"), done_at__isnull=True)
    return impacts.annotate(
        overdue=Exists(open_follow_ups.filter(due_at__lte=now)),
        next_due=Subquery(open_follow_ups.order_by("due_at").values("due_at")[:1]),
    )


@require_safe
@permission_required("accounts.view_impact", raise_exception=True)
def board(request):
    user = request.user
    incidents = Incident.objects.filter(pk__in=Impact.objects.open().values("incident_id")).order_by("-started_at")
    form = BoardFilterForm(request.GET, user=user, incidents=incidents,
                           may_pick_anyone=user.has_perm("accounts.add_impact"))
    impacts = annotate_follow_ups(form.filter(Impact.objects.open()))
    per_state = impacts.order_by().values("state").annotate(total=Count("pk"), late=Count("pk", filter=Q(overdue=True)))
    counts = {row["state"]: row for row in per_state}
    per_column = request.GET.get("per_column", "")
    valid = per_column.isascii() and per_column.isdigit() and 0 < len(per_column) <= 4 and int(per_column) > 0
    per_column = min(int(per_column), MAX_PER_COLUMN) if valid else PER_COLUMN
    rows = (annotate_priority(impacts).select_related("account", "incident", "owner")
            .order_by("-overdue", "-score", "-account__arr", "pk"))
    columns = []
    for state in OPEN_IMPACT_STATES:
        count = counts.get(state, {})
        columns.append({
            "state": state,
            "label": ImpactState(state).label,
            "impacts": rows.filter(state=state)[:per_column],
            "total": count.get("total", 0),
            "overdue": count.get("late", 0),
        })
    return render(request, "accounts/board.html", {
        "form": form,
        "columns": columns,
        "total": sum(column["total"] for column in columns),
        "per_column": per_column,
        "now": timezone.now(),
    })
