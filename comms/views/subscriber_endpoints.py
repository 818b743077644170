"""Subscribers' webhooks for communications leads: how many there are of each kind, and the ones disabled after
repeated permanent failures (a deleted Slack or Discord webhook), with why; a lead may try one again. URLs are
shown by host only: a Slack or Discord webhook URL is the subscriber's credential."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from comms.endpoints import subscriptions
from comms.models import SubscriberEndpoint
from core.views import back_to

PER_PAGE = 50


@require_safe
@permission_required("comms.view_subscriberendpoint", raise_exception=True)
def subscriber_endpoint_list(request):
    counts = {row["kind"]: row for row in SubscriberEndpoint.objects.values("kind").annotate(
        active=Count("pk", filter=Q(confirmed_at__isnull=False, disabled_at__isnull=True)),
        disabled=Count("pk", filter=Q(disabled_at__isnull=False)),
    )}
    kinds = [(label, counts.get(value, {}).get("active", 0), counts.get(value, {}).get("disabled", 0))
             for value, label in SubscriberEndpoint.Kind.choices]
    disabled = SubscriberEndpoint.objects.filter(disabled_at__isnull=False).order_by("-disabled_at", "-pk")
    return render(request, "comms/subscriber_endpoints.html", {
        "kinds": kinds,
        "waiting": subscriptions.waiting().count(),
        "page": Paginator(disabled, PER_PAGE).get_page(request.GET.get("page")),
        "can_enable": request.user.has_perm("comms.change_subscriberendpoint"),
        "here": request.get_full_path(),
    })


@require_POST
@permission_required("comms.change_subscriberendpoint", raise_exception=True)
def enable_subscriber_endpoint(request, pk):
    if subscriptions.enable(pk):
        messages.success(request, f"Webhook #{pk} is enabled again; it is disabled anew after the same number of "
                                  "permanent failures in a row.")
    else:
        messages.error(request, "That webhook is not disabled (any more), or was unsubscribed.")
    return back_to(request, reverse("subscriber-endpoints"))
