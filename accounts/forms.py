"""Forms for the account pages. They check the shape of the input; accounts.services decides whether the change
is allowed and valid, and its ValidationErrors are put back on these forms (add_errors)."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from accounts.choices import CompensationKind, FollowUpKind, ImpactLevel, Tier
from accounts.models import Account, Compensation, Contact, FollowUp, Impact
from core.forms import DateTimeLocalInput, IdsChoiceField
from core.roles import ACCOUNT_MANAGER
from incidents.models import Component, Incident

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MANY_ACCOUNTS = 500  # above this the incident page asks for the exact name instead of offering a select


def account_managers(*also):
    """Active users in the account manager group, plus the given users (a current owner, an admin)."""
    extra = [user.pk for user in also if user is not None]
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__name=ACCOUNT_MANAGER) | Q(pk__in=extra)).distinct().order_by("username"))


def person_label(user) -> str:
    return user.get_full_name() or user.username


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return person_label(user)


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: each message on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _model_field(model, name, **kwargs):
    return model._meta.get_field(name).formfield(**kwargs)


# --- Accounts ----------------------------------------------------------------------------------------

class AccountFilterForm(forms.Form):
    """GET filters for /accounts/: a name search, the tier and the owner ('mine', 'none' or a person)."""

    MINE, NOBODY = "mine", "none"

    q = forms.CharField(required=False, max_length=200, label="Name",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Part of the name"}))
    tier = forms.ChoiceField(choices=[("", "Any tier"), *Tier.choices], required=False)
    owner = forms.ChoiceField(required=False)

    def __init__(self, data, *, user):
        super().__init__(data)
        self.user = user
        people = [(str(person.pk), person_label(person))
                  for person in account_managers()]
        self.fields["owner"].choices = [("", "Anyone"), (self.MINE, "Mine"), (self.NOBODY, "No owner"), *people]

    def filter(self, accounts):
        self.is_valid()
        data = self.cleaned_data
        if data.get("q"):
            accounts = accounts.filter(name__icontains=data["q"].strip())
        if data.get("tier"):
            accounts = accounts.filter(tier=data["tier"])
        owner = data.get("owner")
        if owner == self.MINE:
            accounts = accounts.filter(owner=self.user)
        elif owner == self.NOBODY:
            accounts = accounts.filter(owner__isnull=True)
        elif owner:
            accounts = accounts.filter(owner_id=int(owner))
        return accounts


class AccountForm(forms.Form):
    """Every field of an account; saving goes through services.save_account."""

    name = _model_field(Account, "name")
    tier = _model_field(Account, "tier")
    arr = _model_field(Account, "arr")
    currency = _model_field(Account, "currency")
    renewal_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    owner = PersonChoiceField(queryset=get_user_model().objects.none(), required=False, empty_label="Nobody yet")
    email_domains = forms.CharField(
        required=False, max_length=5000, widget=forms.TextInput(attrs={"placeholder": "example.com, example.org"}),
        help_text="Comma separated. Mentions and contacts from these domains are tied to the account.",
    )
    social_handles = forms.CharField(
        required=False, max_length=5000, widget=forms.TextInput(attrs={"placeholder": "examplehq, example_support"}),
        help_text="Comma separated, without the @.",
    )
    components = IdsChoiceField(
        queryset=Component.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=Account._meta.get_field("components").help_text,
    )
    notes = forms.CharField(required=False, max_length=Account._meta.get_field("notes").max_length,
                            widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, account: Account | None = None, user=None, **kwargs):
        if account is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(account)
        super().__init__(*args, **kwargs)
        self.account = account
        owner = account.owner if account is not None else None
        self.fields["owner"].queryset = account_managers(owner)
        self.fields["owner"].help_text = Account._meta.get_field("owner").help_text
        if account is None and user is not None and not user.is_superuser:
            self.fields["owner"].help_text += " Left empty, the account is yours."

    @staticmethod
    def initial_for(account: Account) -> dict:
        return {
            "name": account.name, "tier": account.tier, "arr": account.arr, "currency": account.currency,
            "renewal_date": account.renewal_date, "owner": account.owner_id, "notes": account.notes,
            "email_domains": ", ".join(d.domain for d in account.email_domains.all()),
            "social_handles": ", ".join(h.handle for h in account.social_handles.all()),
            "components": [c.pk for c in account.components.all()],
        }

    def service_fields(self) -> dict:
        """The cleaned values under the names services.save_account takes."""
        data = dict(self.cleaned_data)
        data["notes"] = data["notes"].replace("\r\n", "\n").strip()
        data["components"] = list(data["components"])
        if self.account is None and data["owner"] is None:
            del data["owner"]  # the service's rule: a new account made by an account manager is theirs
        return data


class ContactForm(forms.Form):
    name = _model_field(Contact, "name")
    email = _model_field(Contact, "email")
    role = _model_field(Contact, "role")
    is_primary = forms.BooleanField(required=False, label="Primary contact")

    @staticmethod
    def initial_for(contact: Contact) -> dict:
        return {"name": contact.name, "email": contact.email, "role": contact.role, "is_primary": contact.is_primary}


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, with a header row; the export's columns.")
    partial = forms.BooleanField(
        required=False, label="Keep the valid rows",
        help_text="Unticked, nothing is saved when any row is wrong (all or nothing).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it.")
        raw = upload.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text; save it as “CSV UTF-8” and try again.") from None


# --- Impacts -----------------------------------------------------------------------------------------

class ImpactForm(forms.Form):
    """The facts of an impact; saving goes through services.update_impact with what changed."""

    level = forms.ChoiceField(choices=ImpactLevel.choices)
    downtime_minutes = _model_field(Impact, "downtime_minutes", label="Downtime (minutes)")
    sla_breached = forms.BooleanField(required=False, label="SLA breached")
    affected_users = _model_field(Impact, "affected_users")
    affected_share = _model_field(Impact, "affected_share", label="Share of users affected (%)",
                                  validators=[MaxValueValidator(Decimal(100))])
    owner = PersonChoiceField(queryset=get_user_model().objects.none(), required=False, empty_label="Nobody")

    FIELDS = ("level", "downtime_minutes", "sla_breached", "affected_users", "affected_share", "owner")

    def __init__(self, *args, impact: Impact, **kwargs):
        kwargs.setdefault("initial", {name: getattr(impact, name) for name in self.FIELDS})
        kwargs.setdefault("auto_id", "impact-%s")  # the impact page has three forms with a kind or an owner
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = account_managers(impact.owner)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.FIELDS}


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(choices=FollowUpKind.choices, initial=FollowUpKind.CALL)
    summary = _model_field(FollowUp, "summary")
    due_at = forms.DateTimeField(label="Due", widget=DateTimeLocalInput())
    owner = PersonChoiceField(queryset=get_user_model().objects.none(), required=False,
                              empty_label="Me", help_text="Who does it; empty means you.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "follow-up-%s")  # ids unique on the impact page, next to the other forms
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = account_managers()


class CompleteFollowUpForm(forms.Form):
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000,
                              help_text="What came of it, e.g. what the customer said.")
    next_step = _model_field(FollowUp, "next_step", required=False)


class CompensationForm(forms.Form):
    kind = forms.ChoiceField(choices=CompensationKind.choices, initial=CompensationKind.SERVICE_CREDIT)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, required=False,
                                validators=[MinValueValidator(Decimal(0))])
    percentage = forms.DecimalField(max_digits=5, decimal_places=2, required=False,
                                    validators=[MinValueValidator(Decimal(0))],
                                    help_text=Compensation._meta.get_field("percentage").help_text)
    currency = forms.CharField(max_length=3, required=False, help_text="Empty means the account's currency.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000,
                             help_text="Why it is offered, e.g. 3 hours of downtime during their launch.")
    override_reason = _model_field(Compensation, "override_reason", required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "compensation-%s")  # ids unique on the impact page, next to the other forms
        super().__init__(*args, **kwargs)

    def service_fields(self) -> dict:
        return dict(self.cleaned_data)


# --- The incident page's "add an affected account" ---------------------------------------------------

class AddImpactForm(forms.Form):
    """An account by select (few accounts) or by its exact name (many), and the level."""

    account = forms.ModelChoiceField(queryset=Account.objects.all(), required=False, empty_label="Choose an account")
    account_name = forms.CharField(required=False, max_length=200, label="Account name",
                                   help_text="The exact name of the account.")
    level = forms.ChoiceField(choices=ImpactLevel.choices, initial=ImpactLevel.MAJOR)

    def clean(self):
        data = super().clean()
        name = (data.get("account_name") or "").strip()
        if data.get("account") is None and name:
            data["account"] = Account.objects.filter(name__iexact=name).first()
            if data["account"] is None:
                self.add_error("account_name", f"No account is called “{name}”.")
        if data.get("account") is None and not self.errors:
            self.add_error("account", "Choose the affected account.")
        return data


class BoardFilterForm(forms.Form):
    """GET filters for /board/. Owner: me (the default), anyone, or one person (leads and managers only)."""

    ME, ANYONE = "me", "anyone"

    incident = forms.ModelChoiceField(queryset=Incident.objects.none(), required=False, empty_label="Any incident")
    tier = forms.ChoiceField(choices=[("", "Any tier"), *Tier.choices], required=False)
    owner = forms.ChoiceField(required=False)

    def __init__(self, data, *, user, incidents, may_pick_anyone: bool):
        data = data.copy()
        data.setdefault("owner", self.ME)
        super().__init__(data)
        self.user = user
        self.fields["incident"].queryset = incidents
        choices = [(self.ME, "Me")]
        if may_pick_anyone:
            choices += [(self.ANYONE, "Anyone"), *((str(person.pk), person_label(person))
                                                  for person in account_managers() if person.pk != user.pk)]
        self.fields["owner"].choices = choices

    def filter(self, impacts):
        self.is_valid()
        data = self.cleaned_data
        owner = data.get("owner") or self.ME
        if owner == self.ME:
            owner = self.user.pk
        if owner != self.ANYONE:
            impacts = impacts.filter(Q(owner_id=owner) | Q(account__owner_id=owner))
        if data.get("incident"):
            impacts = impacts.filter(incident=data["incident"])
        if data.get("tier"):
            impacts = impacts.filter(account__tier=data["tier"])
        return impacts
