from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.demo import DEMO_USERS, Demo, steps


class Command(BaseCommand):
    help = ("Load demo users (one per role), components, incidents, accounts, messages and mentions. Safe to run "
            "again: nothing is duplicated.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for development: DEBUG is off. Pass --force if you really mean it.")
        demo = Demo()
        with transaction.atomic():
            parts = [phrase for step in steps if (phrase := step(demo))]
        self.stdout.write(f"Demo data ready: {', '.join(parts)}.\n")
        self.stdout.write(f"Open {settings.SITE_URL} and sign in as:")
        for username, password, role, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {password:<13} {role or 'Admin (superuser)'}")
