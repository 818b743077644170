"""Demo data for `make run`: each app registers a step in its AppConfig.ready(); `load_demo_data` runs them in
the order of INSTALLED_APPS (lowest layer first), in one transaction.

A step takes the shared `Demo` (what earlier steps made: users, components, the incidents created by this run)
and returns a phrase for the summary ("6 customer accounts") or None. Steps are idempotent: running the command
again duplicates nothing."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.hooks import Hook
from core.roles import ACCOUNT_MANAGER, COMMS_LEAD, SUPPORT

steps = Hook("demo steps", "f(demo: Demo) -> a phrase for the summary, or None.")

# username, password, role (None = superuser), full name
DEMO_USERS = [
    ("lead", "demo-lead", COMMS_LEAD, "Lena Lead"),
    ("manager", "demo-manager", ACCOUNT_MANAGER, "Max Manager"),
    ("support", "demo-support", SUPPORT, "Sam Support"),
    ("admin", "demo-admin", None, "Ada Admin"),
]


@dataclass
class Demo:
    users: dict = field(default_factory=dict)
    components: dict = field(default_factory=dict)
    new_incidents: list = field(default_factory=list)


def demo_users(demo: Demo) -> str:
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
        demo.users[username] = user
    return f"{len(demo.users)} users"
