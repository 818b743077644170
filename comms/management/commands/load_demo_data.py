from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from comms import messaging, services
from comms.choices import ComponentStatus, ComponentTier, IncidentKind, IncidentStatus, MessagePhase, Severity
from comms.defaults import create_default_templates
from comms.models import Component, Incident, MessageTemplate, Subscriber
from comms.roles import ACCOUNT_MANAGER, COMMS_LEAD, SUPPORT
from sentiment.defaults import create_default_rules_and_lexicon
from sentiment.ingest import ingest
from sentiment.models import XSearch
from sentiment.services import score_mentions

# username, password, role (None = superuser), full name
DEMO_USERS = [
    ("lead", "demo-lead", COMMS_LEAD, "Lena Lead"),
    ("manager", "demo-manager", ACCOUNT_MANAGER, "Max Manager"),
    ("support", "demo-support", SUPPORT, "Sam Support"),
    ("admin", "demo-admin", None, "Ada Admin"),
]

DEMO_COMPONENTS = [
    ("API", ComponentTier.TIER0, "Public REST API used by customers' integrations."),
    ("Payments", ComponentTier.TIER0, "Card and invoice payments."),
    ("Web dashboard", ComponentTier.TIER1, "The customer-facing web application."),
    ("Email delivery", ComponentTier.TIER1, "Transactional email sent on customers' behalf."),
    ("Webhooks", ComponentTier.TIER2, "Event notifications to customers' endpoints."),
    ("Mobile app", ComponentTier.TIER2, "iOS and Android apps."),
]

DEMO_SUBSCRIBERS = 5

# text, author handle, followers, minutes ago
DEMO_MENTIONS = [
    ("@example payments are down again, our checkout is broken. I want a refund", "shopowner_ana", 850, 18),
    ("Payments failing for 20 minutes now, still waiting for an update", "dev_marco", 120, 14),
    ("If this keeps happening we are switching providers", "cto_lena", 23000, 11),
    ("Thanks for the quick acknowledgement @example, hope it's fixed soon", "happy_user", 40, 8),
    ("is example.com down for anyone else? API errors everywhere", "random_dev", 310, 6),
]

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

# title, severity, kind, components, minutes ago it started, statuses it went through after opening
DEMO_INCIDENTS = [
    ("Card payments failing for EU customers", Severity.SEV1, IncidentKind.SERVICE, ["Payments", "API"], 25, []),
    ("Delayed transactional email", Severity.SEV3, IncidentKind.SERVICE, ["Email delivery"], 190,
     [IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING]),
    ("Elevated API error rates", Severity.SEV2, IncidentKind.SERVICE, ["API", "Webhooks"], 60 * 50,
     [IncidentStatus.IDENTIFIED, IncidentStatus.RESOLVED]),
    ("Suspicious sign-in attempts", Severity.SEV4, IncidentKind.SECURITY, ["Web dashboard"], 60 * 24 * 12,
     [IncidentStatus.RESOLVED, IncidentStatus.CLOSED]),
]


class Command(BaseCommand):
    help = "Load demo users (one per role), components and incidents. Safe to run again: nothing is duplicated."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for development: DEBUG is off. Pass --force if you really mean it.")
        with transaction.atomic():
            create_default_templates()
            create_default_rules_and_lexicon()
            users = self._users()
            components = self._components()
            accounts = self._accounts(users, components)
            created = self._incidents(users, components)
            subscribers = self._subscribers()
            mentions = self._mentions()
        self.stdout.write(
            f"Demo data ready: {len(users)} users, {len(components)} components, "
            f"{created} new incident{'s' if created != 1 else ''}, {accounts} customer accounts, "
            f"{subscribers} confirmed subscribers, "
            f"{mentions} new mentions.\n"
        )
        self.stdout.write(f"Open {settings.SITE_URL} and sign in as:")
        for username, password, role, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {password:<13} {role or 'Admin (superuser)'}")

    def _users(self):
        users = {}
        for username, password, role, full_name in DEMO_USERS:
            first, last = full_name.split()
            user, _ = get_user_model().objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    "is_staff": role is None,
                    "is_superuser": role is None,
                },
            )
            user.set_password(password)
            user.save()
            if role:
                user.groups.set([Group.objects.get(name=role)])
            users[username] = user
        return users

    def _components(self):
        components = {}
        for order, (name, tier, description) in enumerate(DEMO_COMPONENTS):
            component, _ = Component.objects.get_or_create(
                name=name, defaults={"tier": tier, "description": description, "display_order": order * 10}
            )
            components[name] = component
        return components

    def _accounts(self, users, components):
        """Customer accounts owned by the demo account manager; some use the components of the demo incidents."""
        from accounts.models import Account, Contact, EmailDomain, SocialHandle

        today = timezone.localdate()
        for name, tier, arr, renews_in, names, domain, handle, contact in DEMO_ACCOUNTS:
            account, created = Account.objects.get_or_create(name=name, defaults={
                "tier": tier, "arr": arr, "renewal_date": today + timedelta(days=renews_in),
                "owner": users["manager"], "currency": "USD"})
            if not created:
                continue
            account.components.set([components[component] for component in names])
            EmailDomain.objects.create(account=account, domain=domain)
            if handle:
                SocialHandle.objects.create(account=account, handle=handle)
            Contact.objects.create(account=account, name=contact, is_primary=True,
                                   email=f"{contact.split()[0].lower()}@{domain}")
        return Account.objects.count()

    def _impacts(self, incident, users):
        """The accounts using the incident's components, the top one already contacted with a call planned."""
        from accounts import services as account_services
        from accounts.models import Impact
        from accounts.scoring import ranked

        account_services.derive_impacts(incident, actor=users["lead"])
        top = ranked(Impact.objects.filter(incident=incident)).first()
        if top is not None:
            manager = users["manager"]
            account_services.move_impact(top, "contacted", actor=manager, note="Emailed their CTO.")
            account_services.add_follow_up(top, actor=manager, kind="call", due_at=timezone.now() + timedelta(hours=2),
                                           summary="Call the CTO about the checkout outage and a service credit")

    def _mentions(self):
        """A few customer mentions around the worst incident, scored at once so the queue is not empty."""
        now = timezone.now()
        items = [
            {"external_id": f"demo-{n}", "text": text, "author_handle": handle, "author_followers": followers,
             "posted_at": (now - timedelta(minutes=minutes)).isoformat(), "source": "x",
             "url": f"https://x.com/{handle}/status/{1850000000000000000 + n}"}
            for n, (text, handle, followers, minutes) in enumerate(DEMO_MENTIONS)
        ]
        results = ingest(items, default_source="x")
        created = [result.id for result in results if result.status == "created"]
        score_mentions(created)
        XSearch.objects.get_or_create(name="Brand mentions", defaults={"query": "@example OR example.com -is:retweet"})
        return len(created)

    def _subscribers(self):
        now = timezone.now()
        for n in range(1, DEMO_SUBSCRIBERS + 1):
            Subscriber.objects.get_or_create(email=f"subscriber{n}@example.com", defaults={"confirmed_at": now})
        return Subscriber.objects.filter(confirmed_at__isnull=False).count()

    def _messages(self, incident, users):
        """The worst incident gets a published acknowledgement and an update waiting for approval."""
        template = MessageTemplate.objects.filter(name="Initial acknowledgement", pre_approved=True).first()
        if template is not None:
            # Unchanged pre-approved text: support publishes it at once; the worker sends it when it starts.
            ack = messaging.create_message(incident=incident, author=users["support"], template=template)
            messaging.publish(ack, actor=users["support"])
        update = messaging.create_message(
            incident=incident, author=users["support"], phase=MessagePhase.UPDATE,
            headline="Card payments: we found the cause",
            explain="A change to our payment provider connection is failing for EU cards. We are reversing it now.",
            acknowledge="We know you cannot take payments right now, and we are sorry. Next update within 30 minutes.",
            channels=["statuspage", "email"],
        )
        messaging.submit(update, actor=users["support"])

    def _incidents(self, users, components):
        lead = users["lead"]
        created = 0
        now = timezone.now()
        for title, severity, kind, names, minutes_ago, moves in DEMO_INCIDENTS:
            if Incident.objects.filter(title=title).exists():
                continue
            started = now - timedelta(minutes=minutes_ago)
            incident = services.create_incident(
                actor=lead,
                components=[components[name] for name in names],
                title=title,
                severity=severity,
                kind=kind,
                started_at=started,
                detected_at=started + timedelta(minutes=4),
                commander=lead,
                impact_summary=f"Some customers are affected: {', '.join(names)}.",
            )
            for status in moves:
                incident = services.change_status(incident, status, actor=lead)
            if severity == Severity.SEV1:
                self._messages(incident, users)
                self._impacts(incident, users)
            if incident.is_open:
                worst = ComponentStatus.MAJOR_OUTAGE if severity == Severity.SEV1 else ComponentStatus.PARTIAL_OUTAGE
                Component.objects.filter(name__in=names).update(status=worst)
            created += 1
        return created
