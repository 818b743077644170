"""Pages for the support review queue: the queue with its filters and bulk bar, a mention's page, and one POST
per action. Every action goes through sentiment.review; its refusals come back as messages, never as a 500."""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from comms.models import Delivery
from core.validators import whole_number
from core.views import REFUSALS, back_to, safe_next
from sentiment import quality, review
from sentiment.choices import OPEN_REVIEW_STATES, REVIEW_MACHINE, DismissReason, ReviewState
from sentiment.forms import MentionFilterForm
from sentiment.models import Mention
from sentiment.sources.replies import network_name, reply_options

PER_PAGE = 50
REVIEW = "sentiment.review_mention"


def who(mention: Mention) -> str:
    """How a flash message names a mention: its author, or its source and number."""
    if mention.author_handle:
        return f"@{mention.author_handle}"
    return mention.author_name or f"{mention.get_source_display()} mention #{mention.pk}"


def mention_actions(mention: Mention, user) -> dict:
    """Which buttons this user sees on this mention now. The service layer still decides on each POST."""
    if not user.has_perm(REVIEW):
        return {}
    state = mention.review_state
    mine = state == ReviewState.IN_REVIEW and mention.assignee_id == user.pk
    return {
        "assign": REVIEW_MACHINE.can(state, ReviewState.IN_REVIEW) and not mine,
        "reopen": state not in (ReviewState.NEW, ReviewState.IN_REVIEW),
        "respond": REVIEW_MACHINE.can(state, ReviewState.RESPONDED),
        "escalate": REVIEW_MACHINE.can(state, ReviewState.ESCALATED),
        "dismiss": REVIEW_MACHINE.can(state, ReviewState.DISMISSED),
    }


def with_reply_options(mentions) -> None:
    """Give each mention its "also post as a reply on <network>" option (None for a source that cannot be
    answered where it was posted): the network, whether its channel is configured or why not, the length limit."""
    options = reply_options()
    for mention in mentions:
        mention.reply_option = options.get(mention.source)


@require_safe
@permission_required("sentiment.view_mention", raise_exception=True)
def review_queue(request):
    user = request.user
    visible = review.visible_mentions(user)
    form = MentionFilterForm(request.GET, mentions=visible)
    rows = form.filter(visible.select_related("incident", "assignee"))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for mention in page:
        mention.actions = mention_actions(mention, user)
    with_reply_options(page)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "sentiment/queue.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "here": request.get_full_path(),
        "can_review": user.has_perm(REVIEW),
        "dismiss_reasons": DismissReason.choices,
    })


@require_safe
@permission_required("sentiment.view_mention", raise_exception=True)
def mention_detail(request, pk):
    replies = Prefetch("replies", queryset=Delivery.objects.order_by("pk"))
    mention = get_object_or_404(
        review.visible_mentions(request.user).select_related("incident", "assignee").prefetch_related(replies), pk=pk
    )
    mention.actions = mention_actions(mention, request.user)
    with_reply_options([mention])
    return render(request, "sentiment/mention_detail.html", {
        "mention": mention,
        "here": request.get_full_path(),
        # The queue page it was opened from, with its filters and page; the plain queue otherwise.
        "queue_url": safe_next(request, request.GET) or reverse("mentions"),
        "can_review": request.user.has_perm(REVIEW),
        "dismiss_reasons": DismissReason.choices,
    })


def _assign(mention, request):
    mention = review.assign(mention, actor=request.user)
    return f"Mention from {who(mention)} assigned to you (in review)."


def _respond(mention, request):
    post_to_x = request.POST.get("post_to_x") == "on"
    mention = review.respond(mention, actor=request.user, text=request.POST.get("text", ""), post_to_x=post_to_x)
    outcome = f"Response to {who(mention)} recorded (responded)."
    return outcome + (f" It is being posted as a reply on {network_name(mention)}." if post_to_x else "")


def _escalate(mention, request):
    mention = review.escalate(mention, actor=request.user, note=request.POST.get("note", "").strip())
    return f"Mention from {who(mention)} escalated to account management."


def _dismiss(mention, request):
    mention = review.dismiss(mention, actor=request.user, reason=request.POST.get("reason", ""),
                             kind=request.POST.get("kind", ""))
    kind = mention.get_dismiss_reason_display()
    return f"Mention from {who(mention)} dismissed" + (f" ({kind})." if kind else ".")


ACTIONS = {"assign": _assign, "respond": _respond, "escalate": _escalate, "dismiss": _dismiss}
BULK_ACTIONS = {"assign": _assign, "dismiss": _dismiss}


def refusal_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do that."


@require_POST
def mention_action(request, pk, action):
    """One POST per button on the queue and the mention page; refusals come back as messages."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    if not request.user.has_perm(REVIEW):
        raise PermissionDenied
    mention = get_object_or_404(review.visible_mentions(request.user), pk=pk)
    try:
        outcome = ACTIONS[action](mention, request)
    except (*REFUSALS, ValidationError) as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, outcome)
    return back_to(request, reverse("mention-detail", args=[mention.pk]))


@require_POST
def bulk_action(request):
    """Assign or dismiss each selected mention in turn; one message says how many were done and why any were not."""
    if not request.user.has_perm(REVIEW):
        raise PermissionDenied
    queue = reverse("mentions")
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose what to do with the selected mentions.")
        return back_to(request, queue)
    ids = sorted({number for value in request.POST.getlist("ids") if (number := whole_number(value)) is not None})
    if not ids:
        messages.error(request, "Select at least one mention first.")
        return back_to(request, queue)
    found = review.visible_mentions(request.user).in_bulk(ids)
    done = 0
    refused = defaultdict(list)  # reason → mention ids
    for pk in ids:
        if pk not in found:
            refused["No such mention."].append(pk)
            continue
        try:
            BULK_ACTIONS[action](found[pk], request)
        except (*REFUSALS, ValidationError) as refusal:
            refused[refusal_text(refusal)].append(pk)
        else:
            done += 1
    count = sum(len(pks) for pks in refused.values())
    text = f"{done} done, {count} refused"
    if refused:
        reasons = "; ".join(
            f"{', '.join(f'#{pk}' for pk in pks)}: {reason}" for reason, pks in refused.items()
        )
        text += f" ({reasons})"
    level = messages.SUCCESS if not count else messages.WARNING if done else messages.ERROR
    messages.add_message(request, level, text + ".")
    return back_to(request, queue)


def dashboard_panel(request):
    """The review queue on the dashboard (registered in comms.hooks.dashboard_panels), for those who review."""
    if not request.user.has_perm("sentiment.review_mention"):
        return None
    waiting = Mention.objects.filter(flagged=True, review_state__in=OPEN_REVIEW_STATES)
    return "sentiment/_dashboard_panel.html", {
        "waiting": waiting.count(),
        "mine": waiting.filter(assignee=request.user).count(),
        "unassigned": waiting.filter(assignee__isnull=True).count(),
        "spot_checks": Mention.objects.filter(spot_check=True, review_state__in=OPEN_REVIEW_STATES).count(),
    }


QUALITY_WINDOWS = (7, 30, 90)


@require_safe
@permission_required(REVIEW, raise_exception=True)
def quality_page(request):
    """Flag precision from review outcomes, recall estimated from the spot-checks, what false flags were flagged
    for, and suggested lexicon entries: support staff and communications leads; accepting needs the lexicon."""
    days = whole_number(request.GET.get("days", "")) or 30
    if days not in QUALITY_WINDOWS:
        days = 30
    report = quality.quality_report(days)
    readable = set(review.visible_mentions(request.user).filter(
        pk__in=[pk for suggestion in report.suggestions for pk in suggestion.examples]).values_list("pk", flat=True))
    for suggestion in report.suggestions:
        suggestion.examples = [pk for pk in suggestion.examples if pk in readable]
    return render(request, "sentiment/quality.html", {
        "report": report,
        "windows": QUALITY_WINDOWS,
        "can_accept": request.user.has_perms(["sentiment.add_lexiconentry", "sentiment.change_lexiconentry"]),
        "new_negative": [s for s in report.suggestions if s.valence < 0],
        "new_neutral": [s for s in report.suggestions if s.valence == 0],
        "here": request.get_full_path(),
    })


@require_POST
def accept_suggestion(request):
    """One click on the quality page: the suggested term becomes a lexicon entry (admins)."""
    back = reverse("mention-quality")
    try:
        valence = float(request.POST.get("valence", ""))
    except ValueError:
        valence = None
    try:
        entry = quality.accept_suggestion(request.POST.get("term", ""), valence, actor=request.user,
                                          why=request.POST.get("why", "")[:150])
    except ValidationError as refusal:  # PermissionDenied goes on: a 403 page, as for every refused POST
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, f"“{entry.term}” is in the lexicon at {entry.valence:+.1f}; mentions scored from "
                                  "now on use it (`manage.py rescore_mentions` rescores earlier ones).")
    return back_to(request, back)


def incident_panel(request, incident):
    """The incident page's sentiment panel (registered in incidents.hooks.page_panels): everyone who may read
    the incident sees the chart; the links to the queue need sentiment.view_mention."""
    return "sentiment/_incident_panel.html", {}
