from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Revoke API tokens: all of a user's, or one by the first characters shown when it was created."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--key", help="Revoke only the token whose key starts with this (8 characters).")

    def handle(self, username, key, **options):
        if not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"There is no user called {username!r}.")
        tokens = AuthToken.objects.filter(user__username=username)
        if key:
            tokens = tokens.filter(token_key__startswith=key)
        count, _ = tokens.delete()
        self.stdout.write(f"Revoked {count} token{'s' if count != 1 else ''} of {username}.")
