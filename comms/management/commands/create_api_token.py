from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it. The token has the user's role; only its hash is "
        "stored, so it is shown once. The token alone is the last line of output."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=365, help="Days until the token expires (default 365; 0 = never)."
        )

    def handle(self, username, days, **options):
        if days < 0:
            raise CommandError("--days must be 0 (never expires) or a positive number of days.")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user called {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate them before creating a token.")
        instance, token = AuthToken.objects.create(user, expiry=timedelta(days=days) if days else None)
        expiry = f"expires {instance.expiry:%Y-%m-%d %H:%M %Z}" if instance.expiry else "never expires"
        self.stdout.write(
            f"Token {instance.token_key}… for {username} ({expiry}); it is shown only now.\n"
            f"Send it as `Authorization: Token <token>`; revoke it with "
            f"`manage.py revoke_api_tokens {username} --key {instance.token_key}`."
        )
        self.stdout.write(token)
