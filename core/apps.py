from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate


def _sync_roles(sender, using="default", **kwargs):
    from core.roles import sync_role_permissions

    missing = sync_role_permissions()
    if missing:
        # After a full migrate every model exists, so a missing permission is a typo in an app's grant().
        raise ImproperlyConfigured(f"The role table names permissions that do not exist: {missing}")


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        import core.db  # noqa: F401  registers the __any lookup
        from core import demo
        from core.roles import COMMS_LEAD, grant

        demo.steps.register(demo.demo_users)
        # The email suppression list: leads see who is no longer emailed and may lift one (comms' page).
        grant(COMMS_LEAD, "core.view_suppression", "core.lift_suppression")

        # Once per migrate (sender=self): create the role groups and grant exactly the registered permissions.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="core.sync_roles")
