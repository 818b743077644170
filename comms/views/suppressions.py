"""The email suppression list for communications leads: who is no longer emailed and why, and lifting one."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from comms.models import Subscriber
from core.models import Suppression
from core.suppression import key, lift
from core.views import back_to

PER_PAGE = 50


@require_safe
@permission_required("core.view_suppression", raise_exception=True)
def suppression_list(request):
    rows = Suppression.objects.all()
    query = key(request.GET.get("q", ""))[:254]
    if query:
        rows = rows.filter(address__contains=query)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "comms/suppression_list.html", {
        "page": page,
        "q": query,
        "query": urlencode({"q": query}) if query else "",
        "soft_bounced": Subscriber.objects.filter(soft_bounces__gt=0).count(),
        "can_lift": request.user.has_perm("core.lift_suppression"),
        "here": request.get_full_path(),
    })


@require_POST
@permission_required("core.lift_suppression", raise_exception=True)
def lift_suppression(request, pk):
    """Email the address again (a subscriber still has to confirm anew: suppressing unconfirmed them)."""
    row = Suppression.objects.filter(pk=pk).first()
    if row is None:
        messages.error(request, "That address is not on the suppression list (any more).")
    else:
        lift(row.address)
        messages.success(request, f"{row.address} is no longer suppressed. A status page subscriber with it must "
                                  "subscribe and confirm again to receive updates.")
    return back_to(request, reverse("email-suppressions"))
