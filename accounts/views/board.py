"""My follow-up board: the open impacts an account manager owns (or whose account they own), one column per
state, overdue first and then by priority score, and a Closed column that stays collapsed until asked for.

Each column shows a page of PER_COLUMN cards with links to the next and previous ones (?page_<state>=2); every
link keeps the filters and the other columns' pages. The queries are fixed in number: each column shown is one
query with its overdue flag (Exists), next due time and score annotated, and one more counts every column."""

from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.choices import OPEN_IMPACT_STATES, ImpactState
from accounts.forms import BoardFilterForm
from accounts.models import FollowUp, Impact
from accounts.priority import annotate_priority
from incidents.models import Incident

PER_COLUMN = 20  # cards shown per column and page; ?per_column= changes it, up to MAX_PER_COLUMN
MAX_PER_COLUMN = 500
CLOSED = ImpactState.CLOSED


def annotate_follow_ups(impacts, now=None):
    """overdue: an open follow-up was due at or before now; next_due: the earliest open follow-up's due time."""
    now = now or timezone.now()
    open_follow_ups = FollowUp.objects.filter(impact=OuterRef("pk"), done_at__isnull=True)
    return impacts.annotate(
        overdue=Exists(open_follow_ups.filter(due_at__lte=now)),
        next_due=Subquery(open_follow_ups.order_by("due_at").values("due_at")[:1]),
    )


def positive_number(value: str, default: int, most: int) -> int:
    """A small positive whole number from the query string, or the default for anything else."""
    if value.isascii() and value.isdigit() and 0 < len(value) <= 4 and int(value) > 0:
        return min(int(value), most)
    return default


def link_to(query, **changes) -> str:
    """?… for this page with some parameters changed (None removes one): the filters and other pages stay."""
    query = query.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = str(value)
    return f"?{query.urlencode()}" if query else "?"


def column(request, rows, state, total: int, overdue: int, per_column: int) -> dict:
    """One column: its page of cards and the links to the cards before and after them."""
    param = f"page_{state}"
    pages = max(1, -(-total // per_column))
    number = min(positive_number(request.GET.get(param, ""), 1, 9999), pages)
    start = (number - 1) * per_column
    later = total - start - per_column
    return {
        "state": state,
        "label": ImpactState(state).label,
        "impacts": rows[start:start + per_column],
        "total": total,
        "overdue": overdue,
        "first": start + 1,
        "last": min(start + per_column, total),
        "more": min(later, per_column) if later > 0 else 0,
        "more_link": link_to(request.GET, **{param: number + 1}) if later > 0 else "",
        "back_link": link_to(request.GET, **{param: number - 1 if number > 2 else None}) if number > 1 else "",
    }


@require_safe
@permission_required("accounts.view_impact", raise_exception=True)
def board(request):
    user = request.user
    incidents = Incident.objects.filter(pk__in=Impact.objects.open().values("incident_id")).order_by("-started_at")
    form = BoardFilterForm(request.GET, user=user, incidents=incidents,
                           may_pick_anyone=user.has_perm("accounts.add_impact"))
    impacts = annotate_follow_ups(form.filter(Impact.objects.all()))
    per_state = impacts.order_by().values("state").annotate(total=Count("pk"), late=Count("pk", filter=Q(overdue=True)))
    counts = {row["state"]: row for row in per_state}
    per_column = positive_number(request.GET.get("per_column", ""), PER_COLUMN, MAX_PER_COLUMN)
    rows = (annotate_priority(impacts).select_related("account", "incident", "owner")
            .order_by("-overdue", "-score", "-account__arr", "pk"))
    columns = [
        column(request, rows.filter(state=state), state, counts.get(state, {}).get("total", 0),
               counts.get(state, {}).get("late", 0), per_column)
        for state in OPEN_IMPACT_STATES
    ]
    show_closed = request.GET.get("closed") == "1"
    closed_rows = rows.filter(state=CLOSED).order_by(F("closed_at").desc(nulls_last=True), "-pk")
    closed = column(request, closed_rows, CLOSED, counts.get(CLOSED, {}).get("total", 0), 0, per_column)
    closed.update({
        "shown": show_closed,
        "toggle_link": link_to(request.GET, closed=None if show_closed else 1, page_closed=None),
    })
    if not show_closed:
        closed["impacts"] = []
    return render(request, "accounts/board.html", {
        "form": form,
        "columns": columns,
        "closed": closed,
        "total": sum(column["total"] for column in columns),
        "per_column": per_column,
        "default_per_column": PER_COLUMN,
        "now": timezone.now(),
    })
