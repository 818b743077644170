"""Pages for customer accounts: the list with its filters and CSV export, an account's page with its contacts,
impacts and timeline, the edit form, and the CSV import. Every write goes through accounts.services; its refusals
come back as messages or form errors, never as a 500."""


from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import csv_io, hooks, rules, services
from accounts.choices import OPEN_IMPACT_STATES, ImpactState
from accounts.forms import AccountFilterForm, AccountForm, ContactForm, ImportForm, add_errors
from accounts.hooks import Entry
from accounts.models import Account, AccountEvent, Contact
from accounts.priority import annotate_priority
from core.views import REFUSALS, back_to

PER_PAGE = 50
TIMELINE_LIMIT = 100
EXPORT_CHUNK = 500
VIEW = "accounts.view_account"


def refusal_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do that."


def filtered_accounts(request) -> tuple[AccountFilterForm, object]:
    form = AccountFilterForm(request.GET, user=request.user)
    return form, form.filter(Account.objects.all())


@require_safe
@permission_required(VIEW, raise_exception=True)
def account_list(request):
    form, accounts = filtered_accounts(request)
    rows = accounts.select_related("owner").annotate(
        open_impacts=Count("impacts", filter=Q(impacts__state__in=OPEN_IMPACT_STATES))
    ).order_by("name")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/account_list.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_add": request.user.has_perm("accounts.add_account"),
        "can_import": request.user.has_perm("accounts.import_accounts"),
    })


class _Echo:
    """A write-only stream that hands back what it is given, for the CSV export."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def export_chunks(accounts):
    """The CSV in chunks of EXPORT_CHUNK accounts, so that a large export is never held in memory at once. Each
    chunk is written by csv_io.export_accounts; the header row it writes is kept from the first chunk only."""
    ids = list(accounts.order_by("name", "pk").values_list("pk", flat=True))
    stream = _Echo()
    header = None
    for start in range(0, max(len(ids), 1), EXPORT_CHUNK):
        chunk = Account.objects.filter(pk__in=ids[start:start + EXPORT_CHUNK]).order_by("name", "pk")
        csv_io.export_accounts(stream, chunk)
        text = stream.take()
        first, _, rest = text.partition("\n")
        if header is None:
            header = first
        elif first == header:
            text = rest
        yield text


@require_safe
@permission_required(VIEW, raise_exception=True)
def account_export(request):
    """The accounts that match the list's filters, as CSV (the import's format)."""
    _, accounts = filtered_accounts(request)
    response = StreamingHttpResponse(export_chunks(accounts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="accounts-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


# --- An account's page -------------------------------------------------------------------------------

def timeline(account: Account, user, limit: int = TIMELINE_LIMIT) -> list[Entry]:
    """Everything about the account, newest first, in one query per source whatever its history: its own events
    and what comms and sentiment register (the messages to its contacts, the mentions from its people that this
    user may read)."""
    events = AccountEvent.objects.filter(account=account).select_related("actor").order_by("-at", "-pk")[:limit]
    entries = [Entry("event", event.at, event) for event in events]
    for source in hooks.timeline_sources:
        entries += source(account, user, limit)
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def account_context(request, account: Account, *, contact_form=None, bound_contact=None) -> dict:
    user = request.user
    can_edit = rules.may_edit_account(user, account)
    impacts = (annotate_priority(account.impacts.all()).select_related("incident", "owner")
               .annotate(closed=Case(When(state=ImpactState.CLOSED, then=Value(1)), default=Value(0),
                                     output_field=IntegerField()))
               .order_by("closed", "-created_at", "-pk"))
    contacts = list(account.contacts.all())
    if can_edit:
        for contact in contacts:
            if bound_contact is not None and bound_contact.prefix == f"contact-{contact.pk}":
                contact.form = bound_contact
            else:
                contact.form = ContactForm(initial=ContactForm.initial_for(contact), prefix=f"contact-{contact.pk}")
    return {
        "account": account,
        "contacts": contacts,
        "impacts": impacts,
        "timeline": timeline(account, user),
        "timeline_limit": TIMELINE_LIMIT,
        "can_edit": can_edit,
        "contact_form": (contact_form or ContactForm(prefix="new-contact")) if can_edit else None,
        "here": request.get_full_path(),
    }


def load_account(pk) -> Account:
    return get_object_or_404(
        Account.objects.select_related("owner").prefetch_related("email_domains", "social_handles", "components",
                                                                 "contacts"),
        pk=pk,
    )


@require_safe
@permission_required(VIEW, raise_exception=True)
def account_detail(request, pk):
    account = load_account(pk)
    return render(request, "accounts/account_detail.html", account_context(request, account))


def _may_create(user) -> bool:
    return user.has_perm("accounts.add_account")


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required(VIEW, raise_exception=True)
def account_form(request, pk=None):
    """Create (no pk) or edit an account: 403 for anyone who may not."""
    user = request.user
    account = load_account(pk) if pk is not None else None
    if account is None and not _may_create(user):
        raise PermissionDenied
    if account is not None and not rules.may_edit_account(user, account):
        raise PermissionDenied
    if request.method == "POST":
        form = AccountForm(request.POST, account=account, user=user)
        if form.is_valid():
            try:
                saved = services.save_account(account, actor=user, **form.service_fields())
            except REFUSALS as refusal:
                messages.error(request, f"Nothing was saved: {refusal_text(refusal)}")
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Account “{saved.name}” {'saved' if account else 'created'}.")
                return redirect(saved)
    else:
        form = AccountForm(account=account, user=user)
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


# --- Contacts ----------------------------------------------------------------------------------------

CHANGE = "accounts.change_account"  # the role half; rules.check_edit_account is the object half


@require_POST
@permission_required(CHANGE, raise_exception=True)
def contact_create(request, pk):
    account = load_account(pk)
    form = ContactForm(request.POST, prefix="new-contact")
    if form.is_valid():
        try:
            contact = services.save_contact(None, actor=request.user, account=account, **form.cleaned_data)
        except REFUSALS as refusal:
            messages.error(request, refusal_text(refusal))
            return redirect(account)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Contact {contact.name} added.")
            return redirect(f"{account.get_absolute_url()}#contacts")
    if not rules.may_edit_account(request.user, account):
        messages.error(request, f"Only the owner of {account} (or an admin) may change it.")
        return redirect(account)
    messages.error(request, "The contact was not added; see the form below.")
    return render(request, "accounts/account_detail.html", account_context(request, account, contact_form=form))


@require_POST
@permission_required(CHANGE, raise_exception=True)
def contact_update(request, pk):
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk)
    form = ContactForm(request.POST, prefix=f"contact-{contact.pk}")
    if form.is_valid():
        try:
            contact = services.save_contact(contact, actor=request.user, **form.cleaned_data)
        except REFUSALS as refusal:
            messages.error(request, refusal_text(refusal))
            return redirect(contact.account)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Contact {contact.name} saved.")
            return redirect(f"{contact.account.get_absolute_url()}#contacts")
    if not rules.may_edit_account(request.user, contact.account):
        messages.error(request, f"Only the owner of {contact.account} (or an admin) may change it.")
        return redirect(contact.account)
    messages.error(request, f"The changes to {contact.name} were not saved; see the form below.")
    account = load_account(contact.account_id)
    return render(request, "accounts/account_detail.html", account_context(request, account, bound_contact=form))


@require_POST
@permission_required(CHANGE, raise_exception=True)
def contact_delete(request, pk):
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk)
    account = contact.account
    try:
        services.delete_contact(contact, actor=request.user)
    except REFUSALS as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, f"Contact {contact.name} removed.")
    return back_to(request, f"{account.get_absolute_url()}#contacts")


# --- Import ------------------------------------------------------------------------------------------

@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("accounts.import_accounts", raise_exception=True)
def account_import(request):
    """Upload a CSV; show what was created and updated and a table of the lines that were wrong."""
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = csv_io.import_accounts(form.cleaned_data["file"], actor=request.user,
                                                partial=form.cleaned_data["partial"])
            except REFUSALS as refusal:
                messages.error(request, f"Nothing was imported: {refusal_text(refusal)}")
            except ValidationError as error:
                add_errors(form, error)
            else:
                if report.committed and not report.errors:
                    messages.success(request, report.summary)
                elif report.committed:
                    messages.warning(request, report.summary)
                else:
                    messages.error(request, report.summary)
    else:
        form = ImportForm()
    return render(request, "accounts/account_import.html", {"form": form, "report": report})
