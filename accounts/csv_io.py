"""Customer accounts in and out of CSV.

One row per account, keyed by name: re-importing a file updates the accounts it names instead of adding them
again. Columns (a header row names them; order is free; only `name` is required):

    name, tier, arr, currency, renewal_date, owner, email_domains, social_handles, components, contacts, notes

- tier: strategic, enterprise, growth or self-serve; arr: a number ≥ 0 (thousands separators allowed);
  renewal_date: YYYY-MM-DD; owner: the username or email of an account manager;
- email_domains, social_handles, components: several values separated by spaces, commas or semicolons
  (components by name, separated by semicolons since names may hold spaces);
- contacts: `Name <email>, Name <email>`; the first is the primary contact. Contacts are added or updated by
  email; contacts already on the account and missing from the file are kept.
- An empty cell (or a missing column) leaves what is stored as it is: an import never deletes. A listed value
  replaces the stored one (the domains listed become the account's domains).

Every row is checked before anything is written. By default one bad row stops the whole import (nothing is
written) and every bad row is reported with its line number; with partial=True the good rows are imported.

Spreadsheets run a cell starting with = + - @, a tab or a carriage return as a formula (CSV injection): the
export writes such a cell after an apostrophe, which they show as text, and the import takes that apostrophe off.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from email.utils import formataddr, getaddresses

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.choices import AccountEventKind, Tier
from accounts.models import Account, AccountEvent, Contact, EmailDomain, SocialHandle
from accounts.services import clean_domains, clean_handles
from incidents.models import Component

COLUMNS = ["name", "tier", "arr", "currency", "renewal_date", "owner", "email_domains", "social_handles",
           "components", "contacts", "notes"]
TIERS = {**{value: value for value in Tier.values}, **{label.lower(): value for value, label in Tier.choices},
         "self serve": Tier.SELF_SERVE, "selfserve": Tier.SELF_SERVE}
BATCH = 1000
FORMULA_STARTS = frozenset("=+-@\t\r")


def _runs_as_formula(value: str) -> bool:
    return value[:1] in FORMULA_STARTS


def protect_cell(value: str) -> str:
    """The cell as exported: an apostrophe before a formula's first character, and before apostrophes that
    already stand there (so that unprotect_cell gives back exactly this value, round after round)."""
    return f"'{value}" if _runs_as_formula(value.lstrip("'")) else value


def unprotect_cell(value: str) -> str:
    """The cell as imported: the apostrophe protect_cell added comes off; any other stays ("'tis" is kept)."""
    return value[1:] if value.startswith("'") and _runs_as_formula(value[1:].lstrip("'")) else value


@dataclass
class Row:
    line: int
    name: str
    fields: dict
    domains: list[str] | None  # None: leave as stored
    handles: list[str] | None
    components: list[int] | None
    contacts: list[tuple[str, str]]  # (name, email), primary first


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    committed: bool = False
    rows: int = 0

    @property
    def summary(self) -> str:
        bad = len(self.errors)
        if not self.committed:
            return (f"Nothing was imported: {bad} bad line{'s' if bad != 1 else ''} (listed). Fix them and import "
                    "the file again, or keep the valid rows.")
        tail = f"; {bad} bad line{'s' if bad != 1 else ''} skipped" if bad else ""
        return f"{self.created:,} accounts created, {self.updated:,} updated{tail}."


class Checker:
    """Parses and checks rows, remembering what earlier rows of the file claimed (names, domains, handles)."""

    def __init__(self):
        user_model = get_user_model()
        managers = user_model.objects.filter(is_active=True).filter(
            Q(is_superuser=True) | Q(groups__permissions__codename="change_account")
            | Q(user_permissions__codename="change_account")).distinct()
        self.owners = {}
        for pk, username, email in managers.values_list("pk", "username", "email"):
            self.owners[username.lower()] = pk
            if email:
                self.owners.setdefault(email.lower(), pk)
        self.components = {name.lower(): pk for pk, name in Component.objects.values_list("pk", "name")}
        self.names, self.domains, self.handles = {}, {}, {}  # value → line that claimed it

    def check(self, line: int, raw: dict) -> tuple[Row | None, list[str]]:
        problems = []
        value = {column: unprotect_cell((raw.get(column) or "").strip()) for column in COLUMNS}
        name = value["name"]
        self._check_name(name, problems)
        fields = self._fields(value, problems)
        domains, handles = self._identities(value, problems)
        components = self._components(value["components"], problems) if value["components"] else None
        contacts = self._contacts(value["contacts"], problems)
        if problems:
            return None, problems
        self.names[name.lower()] = line
        self.domains.update(dict.fromkeys(domains, line))
        self.handles.update(dict.fromkeys(handles, line))
        return Row(line, name, fields, domains if value["email_domains"] else None,
                   handles if value["social_handles"] else None, components, contacts), []

    def _check_name(self, name: str, problems: list[str]) -> None:
        if not name:
            problems.append("name is empty")
        elif len(name) > 200:
            problems.append("name is longer than 200 characters")
        elif name.lower() in self.names:
            problems.append(f"the account {name!r} is already on line {self.names[name.lower()]}")

    def _fields(self, value: dict, problems: list[str]) -> dict:
        """The account's own fields from the cells that are filled in: an empty cell leaves what is stored.
        A bad cell adds a problem (its field's value then does not matter: the row is not imported)."""
        parsers = (("tier", "tier", _tier), ("arr", "arr", _arr), ("currency", "currency", _currency),
                   ("renewal_date", "renewal_date", _renewal_date), ("owner", "owner_id", self._owner))
        fields = {field_name: parse(value[column], problems) for column, field_name, parse in parsers if value[column]}
        if value["notes"]:
            fields["notes"] = value["notes"]
        return fields

    def _owner(self, text: str, problems: list[str]) -> int | None:
        owner = self.owners.get(text.lower())
        if owner is None:
            problems.append(f"owner {text!r} is not an active account manager (username or email)")
        return owner

    def _identities(self, value, problems):
        domains = handles = []
        try:
            domains = clean_domains(value["email_domains"])
        except ValidationError as error:
            problems.extend(error.message_dict["email_domains"])
        try:
            handles = clean_handles(value["social_handles"])
        except ValidationError as error:
            problems.extend(error.message_dict["social_handles"])
        problems.extend(f"the domain {d} is already on line {self.domains[d]}" for d in domains if d in self.domains)
        problems.extend(f"the handle @{h} is already on line {self.handles[h]}" for h in handles if h in self.handles)
        return domains, handles

    def _components(self, text, problems):
        names = [name.strip() for name in text.split(";") if name.strip()]
        unknown = [name for name in names if name.lower() not in self.components]
        if unknown:
            problems.append(f"unknown component{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        return [self.components[name.lower()] for name in names if name.lower() in self.components]

    def _contacts(self, text, problems):
        contacts, seen = [], set()
        for contact_name, email in getaddresses([text]) if text else []:
            email = email.strip().lower()
            try:
                validate_email(email)
                if len(email) > 254:
                    raise ValidationError("too long")
            except ValidationError:
                problems.append(f"bad contact email {email or text!r} (write Name <name@example.com>)")
                continue
            if len(contact_name.strip()) > 200:
                problems.append(f"the contact name for {email} is longer than 200 characters")
                continue
            if email not in seen:
                seen.add(email)
                contacts.append((contact_name.strip() or email.split("@")[0], email))
        return contacts


def _tier(text: str, problems: list[str]) -> str | None:
    tier = TIERS.get(text.lower())
    if tier is None:
        problems.append(f"unknown tier {text!r} (use strategic, enterprise, growth or self-serve)")
    return tier


def _arr(text: str, problems: list[str]) -> Decimal | None:
    """Thousands separators (commas, underscores, spaces) are allowed; cents are kept."""
    try:
        arr = Decimal(re.sub(r"[,_ ]", "", text))
        if not arr.is_finite() or arr < 0 or arr >= Decimal("1e12"):
            raise InvalidOperation
        return arr.quantize(Decimal("0.01"))
    except InvalidOperation:
        problems.append(f"arr must be a number of 0 or more, got {text!r}")
        return None


def _currency(text: str, problems: list[str]) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        problems.append(f"currency must be a three-letter code such as USD, got {text!r}")
    return text.upper()


def _renewal_date(text: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"renewal_date must be a date like 2027-03-31, got {text!r}")
        return None


def read_rows(text: str):
    """(line number, row dict) for each data row; line numbers count the header as line 1."""
    reader = csv.DictReader(text.splitlines(keepends=True))
    headers = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in headers:
        raise ValidationError(f"The first line must name the columns, including name; expected: {', '.join(COLUMNS)}.")
    unknown = [h for h in headers if h and h not in COLUMNS]
    if unknown:
        raise ValidationError(f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                              f"the columns are: {', '.join(COLUMNS)}.")
    reader.fieldnames = headers
    for raw in reader:
        if None in raw:
            yield reader.line_num, None
            continue
        if not any((value or "").strip() for value in raw.values()):
            continue
        yield reader.line_num, raw


def import_accounts(text: str, *, actor=None, partial: bool = False, progress=None) -> ImportReport:
    """Check every row, then write all of them (or, with partial, the good ones) in one transaction.
    A file-level problem (no header, unknown column) raises ValidationError."""
    report, checker, rows = ImportReport(), Checker(), []
    for line, raw in read_rows(text):
        report.rows += 1
        if raw is None:
            report.errors.append((line, f"more values than the {len(COLUMNS)} columns (quote values with commas)"))
            continue
        row, problems = checker.check(line, raw)
        if problems:
            report.errors.append((line, "; ".join(problems)))
        else:
            rows.append(row)
        if progress:
            progress(report.rows)
    taken = _taken_elsewhere(rows)
    for row in rows:
        mine = row.name.lower()
        claims = [f"the domain {d} belongs to {taken[('d', d)]}" for d in row.domains or ()
                  if taken.get(("d", d), row.name).lower() != mine]
        claims += [f"the handle @{h} belongs to {taken[('h', h)]}" for h in row.handles or ()
                   if taken.get(("h", h), row.name).lower() != mine]
        if claims:
            report.errors.append((row.line, "; ".join(claims)))
            row.line = -row.line  # marks it bad
    report.errors.sort()
    good = [row for row in rows if row.line > 0]
    if report.errors and not partial:
        return report
    with transaction.atomic():
        for start in range(0, len(good), BATCH):
            created, updated = _write(good[start:start + BATCH], actor)
            report.created += created
            report.updated += updated
    report.committed = True
    return report


def _taken_elsewhere(rows: list[Row]) -> dict:
    """Domains and handles in the file that already belong to an account: (kind, value) → account name."""
    taken = {}
    domains = [d for row in rows for d in row.domains or ()]
    handles = [h for row in rows for h in row.handles or ()]
    for start in range(0, max(len(domains), len(handles)), BATCH):
        for domain, name in EmailDomain.objects.filter(domain__in=domains[start:start + BATCH]).values_list(
                "domain", "account__name"):
            taken[("d", domain)] = name
        for handle, name in SocialHandle.objects.filter(handle__in=handles[start:start + BATCH]).values_list(
                "handle", "account__name"):
            taken[("h", handle)] = name
    return taken


def _write(rows: list[Row], actor) -> tuple[int, int]:
    """Accounts are matched by name, ignoring case ("ACME" updates "Acme" and takes the file's spelling)."""
    stored = Account.objects.annotate(key=Lower("name")).filter(key__in=[row.name.lower() for row in rows])
    existing = {account.key: account for account in stored}
    new = []
    for row in rows:
        account = existing.get(row.name.lower())
        if account is None:
            account = Account(name=row.name)
            new.append(account)
        account.name = row.name
        for name, value in row.fields.items():
            setattr(account, name, value)
        row.account = account
    changed = list(existing.values())
    Account.objects.bulk_create(new)
    if changed:
        Account.objects.bulk_update(changed, ["name", "tier", "arr", "currency", "renewal_date", "owner_id", "notes"])
    with_domains = [row for row in rows if row.domains is not None]
    EmailDomain.objects.filter(account_id__in=[row.account.pk for row in with_domains]).delete()
    EmailDomain.objects.bulk_create(EmailDomain(account=row.account, domain=d) for row in with_domains
                                    for d in row.domains)
    with_handles = [row for row in rows if row.handles is not None]
    SocialHandle.objects.filter(account_id__in=[row.account.pk for row in with_handles]).delete()
    SocialHandle.objects.bulk_create(SocialHandle(account=row.account, handle=h) for row in with_handles
                                     for h in row.handles)
    _write_components(rows)
    _write_contacts(rows)
    created_ids = {account.pk for account in new}
    AccountEvent.objects.bulk_create(
        AccountEvent(account=row.account, actor=actor, kind=AccountEventKind.EDITED,
                     description=f"{'created' if row.account.pk in created_ids else 'updated'} by a CSV import "
                                 f"(line {row.line})")
        for row in rows
    )
    return len(new), len(changed)


def _write_components(rows: list[Row]) -> None:
    through = Account.components.through
    listed = [row for row in rows if row.components is not None]
    through.objects.filter(account_id__in=[row.account.pk for row in listed]).delete()
    through.objects.bulk_create(through(account_id=row.account.pk, component_id=pk)
                                for row in listed for pk in set(row.components))


def _write_contacts(rows: list[Row]) -> None:
    with_contacts = [row for row in rows if row.contacts]
    stored = {(c.account_id, c.email): c for c in Contact.objects.filter(
        account_id__in=[row.account.pk for row in with_contacts])}
    new, changed = [], []
    for row in with_contacts:
        for position, (name, email) in enumerate(row.contacts):
            contact = stored.get((row.account.pk, email))
            if contact is None:
                new.append(Contact(account=row.account, name=name, email=email, is_primary=position == 0))
            else:
                contact.name, contact.is_primary = name, position == 0
                changed.append(contact)
    # The first contact listed is the primary one: clear the flag on the rest before setting it.
    Contact.objects.filter(account_id__in=[row.account.pk for row in with_contacts], is_primary=True).update(
        is_primary=False)
    Contact.objects.bulk_create(new)
    Contact.objects.bulk_update(changed, ["name", "is_primary"])


def export_accounts(stream, accounts=None) -> int:
    """Write accounts as CSV (the import format) to a text stream; returns how many."""
    accounts = (accounts if accounts is not None else Account.objects.all()).order_by("name").select_related(
        "owner").prefetch_related("email_domains", "social_handles", "components", "contacts")
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for account in accounts.iterator(chunk_size=BATCH):
        writer.writerow(protect_cell(cell) for cell in [
            account.name, account.tier, f"{account.arr:f}", account.currency,
            account.renewal_date.isoformat() if account.renewal_date else "",
            account.owner.username if account.owner else "",
            " ".join(d.domain for d in account.email_domains.all()),
            " ".join(h.handle for h in account.social_handles.all()),
            "; ".join(c.name for c in account.components.all()),
            ", ".join(formataddr((c.name, c.email)) for c in account.contacts.all()),
            account.notes,
        ])
        count += 1
    return count
