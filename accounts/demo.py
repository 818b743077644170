"""Demo customer accounts, and the affected accounts of the demo's worst incident (core.demo)."""

from datetime import timedelta

from django.utils import timezone

from accounts import services
from accounts.models import Account, Contact, EmailDomain, Impact, SocialHandle
from accounts.priority import ranked
from incidents.demo import worst_new_incident

# name, tier, ARR, days to renewal, components, email domain, X handle, contact name
DEMO_ACCOUNTS = [
    ("Northwind Traders", "strategic", 2_400_000, 45, ["Payments", "API"], "northwind.example", "cto_lena",
     "Lena Okafor"),
    ("Globex Retail", "enterprise", 860_000, 200, ["Payments", "Web dashboard"], "globex.example", "", "Hank Scorpio"),
    ("Initech", "enterprise", 410_000, 30, ["API", "Webhooks"], "initech.example", "", "Bill Lumbergh"),
    ("Ana's Corner Shop", "growth", 18_000, 300, ["Payments"], "anasshop.example", "shopowner_ana", "Ana Ruiz"),
    ("Marco Dev Studio", "growth", 36_000, 80, ["API"], "marco.example", "dev_marco", "Marco Rossi"),
    ("Tiny Blog", "self_serve", 600, 150, ["Email delivery"], "tinyblog.example", "", "Tim Ng"),
]


def demo_accounts(demo) -> str:
    """Accounts owned by the demo account manager; the top affected account of the worst incident is contacted,
    with a call planned."""
    today = timezone.localdate()
    for name, tier, arr, renews_in, names, domain, handle, contact in DEMO_ACCOUNTS:
        account, created = Account.objects.get_or_create(name=name, defaults={
            "tier": tier, "arr": arr, "renewal_date": today + timedelta(days=renews_in),
            "owner": demo.users["manager"], "currency": "USD"})
        if not created:
            continue
        account.components.set([demo.components[component] for component in names])
        EmailDomain.objects.create(account=account, domain=domain)
        if handle:
            SocialHandle.objects.create(account=account, handle=handle)
        Contact.objects.create(account=account, name=contact, is_primary=True,
                               email=f"{contact.split()[0].lower()}@{domain}")
    incident = worst_new_incident(demo)
    if incident is not None:
        _impacts(incident, demo.users)
    return f"{Account.objects.count()} customer accounts"


def _impacts(incident, users) -> None:
    services.derive_impacts(incident, actor=users["lead"])
    top = ranked(Impact.objects.filter(incident=incident)).first()
    if top is not None:
        manager = users["manager"]
        services.move_impact(top, "contacted", actor=manager, note="Emailed their CTO.")
        services.add_follow_up(top, actor=manager, kind="call", due_at=timezone.now() + timedelta(hours=2),
                               summary="Call the CTO about the checkout outage and a service credit")
