"""An impact's page and one POST per action on it (state, facts, follow-ups, compensation, the drafted message),
and the incident page's "Top affected accounts" panel with its two POSTs. Every write goes through
accounts.services; PermissionDenied, TransitionNotAllowed and ValidationError come back as messages or form
errors, never as a 500. Users who may not work the impact see it read-only."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts import outreach, rules, services
from accounts.choices import (
    COMPENSATION_MACHINE,
    IMPACT_MACHINE,
    OPEN_IMPACT_STATES,
    CompensationKind,
    CompensationState,
    ImpactLevel,
    ImpactState,
)
from accounts.forms import (
    MANY_ACCOUNTS,
    AddImpactForm,
    CompensationForm,
    CompleteFollowUpForm,
    FollowUpForm,
    ImpactForm,
    add_errors,
)
from accounts.models import Account, Compensation, FollowUp, Impact
from accounts.priority import explain, ranked
from accounts.sla import suggest_for
from accounts.views.accounts import refusal_text
from core.views import REFUSALS, back_to
from incidents.models import Incident

VIEW = "accounts.view_impact"
WORK = "accounts.change_impact"  # the role half; rules.check_work_impact is the object half
ADD = "accounts.add_impact"
FOLLOW_UP_DUE = timedelta(hours=4)  # the add form's suggested due time


def load_impact(pk) -> Impact:
    """The impact with its score parts annotated, for explain()."""
    return get_object_or_404(
        ranked(Impact.objects.filter(pk=pk)).select_related("account", "account__owner", "incident", "owner")
    )


def compensation_moves(user, compensation: Compensation, can_work: bool) -> list[tuple[str, str]]:
    """The buttons this user sees on this compensation. An approval is the lead's when above the limit, so a lead
    may approve on an impact they otherwise only read. The service still decides on each POST."""
    moves = []
    for state in COMPENSATION_MACHINE.allowed_from(compensation.state):
        if state == CompensationState.APPROVED:
            try:
                rules.check_approve(user, compensation)
            except PermissionDenied as refusal:
                compensation.approval_refusal = str(refusal)
                continue
        elif not can_work:
            continue
        moves.append((state, CompensationState(state).label))
    return moves


def impact_context(request, impact: Impact, **forms) -> dict:
    """What the impact page shows; `forms` are bound forms with errors to show instead of blank ones."""
    user = request.user
    can_work = rules.may_work_impact(user, impact)
    follow_ups = list(impact.follow_ups.select_related("owner"))
    open_follow_ups = sorted((f for f in follow_ups if f.is_open), key=lambda f: (f.due_at, f.pk))
    done_follow_ups = sorted((f for f in follow_ups if not f.is_open), key=lambda f: f.done_at, reverse=True)
    compensations = list(impact.compensations.with_approval_total().select_related("proposed_by", "approved_by"))
    for compensation in compensations:
        compensation.impact = impact
        compensation.moves = compensation_moves(user, compensation, can_work)
        compensation.needs_lead = rules.needs_lead_approval(compensation)
    suggestion = suggest_for(impact)
    context = {
        "impact": impact,
        "account": impact.account,
        "incident": impact.incident,
        "parts": explain(impact),
        "can_work": can_work,
        "open_follow_ups": open_follow_ups,
        "done_follow_ups": done_follow_ups,
        "compensations": compensations,
        "suggestion": suggestion,
        "approval_limit": settings.COMPENSATION_APPROVAL_LIMIT,
        "here": request.get_full_path(),
    }
    # The outcome is recorded by whoever works the impact or by the account manager the follow-up was given to.
    bound = forms.get("complete_form")
    for follow_up in open_follow_ups:
        if not (can_work or (follow_up.owner_id == user.pk and user.has_perm("accounts.change_followup"))):
            continue
        if bound is not None and bound.follow_up_id == follow_up.pk:
            follow_up.form = bound
        else:
            follow_up.form = CompleteFollowUpForm(auto_id=f"fu-{follow_up.pk}-%s")
    if can_work:
        state = impact.state
        context["moves"] = [(s, ImpactState(s).label) for s in IMPACT_MACHINE.allowed_from(state)]
        context["reopening"] = state == ImpactState.CLOSED
        context["edit_form"] = forms.get("edit_form") or ImpactForm(impact=impact)
        due = timezone.localtime(timezone.now() + FOLLOW_UP_DUE).replace(second=0, microsecond=0)
        context["follow_up_form"] = forms.get("follow_up_form") or FollowUpForm(initial={"due_at": due})
        context["compensation_form"] = forms.get("compensation_form") or CompensationForm(initial={
            "kind": CompensationKind.SERVICE_CREDIT, "amount": suggestion.amount,
            "currency": impact.account.currency,
        })
        context["open_forms"] = set(forms)
    return context


def render_impact(request, impact: Impact, **forms):
    return render(request, "accounts/impact_detail.html", impact_context(request, impact, **forms))


@require_safe
@permission_required(VIEW, raise_exception=True)
def impact_detail(request, pk):
    return render_impact(request, load_impact(pk))


def _back(request, impact_pk: int, anchor: str = ""):
    return back_to(request, reverse("impact-detail", args=[impact_pk]) + (f"#{anchor}" if anchor else ""))


@require_POST
@permission_required(WORK, raise_exception=True)
def impact_move(request, pk):
    impact = get_object_or_404(Impact.objects.select_related("account"), pk=pk)
    state = request.POST.get("state", "")
    if state not in ImpactState.values:
        messages.error(request, "Choose a state to move to.")
        return _back(request, impact.pk)
    try:
        impact = services.move_impact(impact, state, actor=request.user, note=request.POST.get("note", ""))
    except (*REFUSALS, ValidationError) as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, f"{impact.account} is now {impact.get_state_display().lower()}.")
    return _back(request, impact.pk)


@require_POST
@permission_required(WORK, raise_exception=True)
def impact_edit(request, pk):
    impact = load_impact(pk)
    form = ImpactForm(request.POST, impact=impact)
    if form.is_valid():
        try:
            services.update_impact(impact, actor=request.user, **form.changes())
        except REFUSALS as refusal:
            messages.error(request, refusal_text(refusal))
            return _back(request, impact.pk)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Impact saved." if form.changes() else "Nothing changed.")
            return _back(request, impact.pk)
    return _render_refused(request, impact, edit_form=form)


def _render_refused(request, impact, **forms):
    if not rules.may_work_impact(request.user, impact):
        messages.error(request, f"Only the owner of {impact.account} or of this impact (or an admin) may work on it.")
        return _back(request, impact.pk)
    messages.error(request, "Nothing was saved; see the form below.")
    return render_impact(request, impact, **forms)


@require_POST
@permission_required(WORK, raise_exception=True)
def follow_up_add(request, pk):
    impact = load_impact(pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            follow_up = services.add_follow_up(impact, actor=request.user, summary=data["summary"],
                                               due_at=data["due_at"], kind=data["kind"], owner=data["owner"])
        except REFUSALS as refusal:
            messages.error(request, refusal_text(refusal))
            return _back(request, impact.pk)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{follow_up.get_kind_display()} planned for {follow_up.owner}, due "
                                      f"{timezone.localtime(follow_up.due_at):%Y-%m-%d %H:%M %Z}.")
            return _back(request, impact.pk, "follow-ups")
    return _render_refused(request, impact, follow_up_form=form)


@require_POST
@permission_required(WORK, raise_exception=True)
def follow_up_complete(request, pk):
    follow_up = get_object_or_404(FollowUp, pk=pk)
    form = CompleteFollowUpForm(request.POST, auto_id=f"fu-{follow_up.pk}-%s")
    form.follow_up_id = follow_up.pk
    if form.is_valid():
        try:
            follow_up = services.complete_follow_up(follow_up, actor=request.user, **form.cleaned_data)
        except REFUSALS as refusal:
            messages.error(request, refusal_text(refusal))
            return _back(request, follow_up.impact_id, "follow-ups")
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{follow_up.get_kind_display()} done: {follow_up.summary}.")
            return _back(request, follow_up.impact_id, "follow-ups")
    impact = load_impact(follow_up.impact_id)
    if follow_up.owner_id == request.user.pk or rules.may_work_impact(request.user, impact):
        messages.error(request, "The outcome was not recorded; see the form below.")
        return render_impact(request, impact, complete_form=form)
    return _render_refused(request, impact, complete_form=form)


@require_POST
@permission_required(WORK, raise_exception=True)
def compensation_propose(request, pk):
    impact = load_impact(pk)
    form = CompensationForm(request.POST)
    if form.is_valid():
        try:
            compensation = services.propose_compensation(impact, actor=request.user, **form.service_fields())
        except REFUSALS as refusal:
            messages.error(request, refusal_text(refusal))
            return _back(request, impact.pk)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{compensation} proposed.")
            return _back(request, impact.pk, "compensation")
    return _render_refused(request, impact, compensation_form=form)


@require_POST
def compensation_move(request, pk):
    """Approve (the lead's above the limit), offer, accept, decline, apply or withdraw."""
    user = request.user
    if not (user.has_perm("accounts.change_compensation") or user.has_perm("accounts.approve_compensation")):
        raise PermissionDenied
    compensation = get_object_or_404(Compensation.objects.select_related("impact__account"), pk=pk)
    state = request.POST.get("state", "")
    if state not in CompensationState.values:
        messages.error(request, "Choose a state to move to.")
    else:
        try:
            compensation = services.move_compensation(compensation, state, actor=user,
                                                      note=request.POST.get("note", ""))
        except (*REFUSALS, ValidationError) as refusal:
            messages.error(request, refusal_text(refusal))
        else:
            messages.success(request, f"{compensation} is now {compensation.get_state_display().lower()}.")
    return _back(request, compensation.impact_id, "compensation")


@require_POST
@permission_required(WORK, raise_exception=True)
def impact_message(request, pk):
    """Draft the targeted message to the account's contacts, then edit it on the message's own page."""
    impact = get_object_or_404(Impact, pk=pk)
    try:
        message = outreach.draft_account_message(impact, actor=request.user)
    except (*REFUSALS, ValidationError) as refusal:
        messages.error(request, refusal_text(refusal))
        return _back(request, impact.pk)
    messages.success(request, "Message drafted for their contacts: check it, then submit it for approval.")
    return redirect("message-update", message.pk)


# --- On the incident page ----------------------------------------------------------------------------

def affected_accounts_context(request, incident: Incident) -> dict:
    """The incident page's panel: the top IMPACT_TOP_N impacts by score, the totals and, for those who may add
    impacts, the account chooser. A fixed number of queries however many impacts and accounts there are."""
    impacts = Impact.objects.filter(incident=incident)
    top = list(ranked(impacts).select_related("account", "owner")[:settings.IMPACT_TOP_N])
    totals = impacts.aggregate(total=Count("pk"), open=Count("pk", filter=Q(state__in=OPEN_IMPACT_STATES)))
    context = {"top_impacts": top, "impact_totals": totals, "top_n": settings.IMPACT_TOP_N}
    if request.user.has_perm(ADD):
        choices = list(Account.objects.order_by("name").values_list("pk", "name")[:MANY_ACCOUNTS + 1])
        context["add_impact"] = {
            "accounts": choices if len(choices) <= MANY_ACCOUNTS else None,
            "levels": ImpactLevel.choices,
            "default_level": ImpactLevel.MAJOR,
        }
    return context


def _incident_back(incident: Incident):
    return redirect(f"{incident.get_absolute_url()}#accounts")


@require_POST
@permission_required(ADD, raise_exception=True)
def impact_add(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    form = AddImpactForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return _incident_back(incident)
    account = form.cleaned_data["account"]
    try:
        impact = services.create_impact(incident=incident, account=account, actor=request.user,
                                        level=form.cleaned_data["level"])
    except (*REFUSALS, ValidationError) as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, f"{account} recorded as affected ({impact.get_level_display().lower()}).")
    return _incident_back(incident)


@require_POST
@permission_required(ADD, raise_exception=True)
def impacts_derive(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    try:
        created = services.derive_impacts(incident, actor=request.user)
    except (*REFUSALS, ValidationError) as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        if created:
            messages.success(request, f"{created:,} affected account{'s' if created != 1 else ''} found from the "
                                      "components they use.")
        elif not incident.components.exists():
            messages.warning(request, "The incident lists no components, so no accounts could be found from them.")
        else:
            messages.info(request, "No further accounts use the incident's components.")
    return _incident_back(incident)
