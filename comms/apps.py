from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate


def _sync_roles(sender, using="default", **kwargs):
    from comms.roles import sync_role_permissions

    missing = sync_role_permissions()
    if missing:
        # After a full migrate every model exists, so a missing permission is a typo in comms.roles.
        raise ImproperlyConfigured(f"comms.roles.ROLE_PERMISSIONS names permissions that do not exist: {missing}")


class CommsConfig(AppConfig):
    name = "comms"
    verbose_name = "Communications"

    def ready(self):
        from django.db.models.signals import post_save

        import config.db  # noqa: F401  registers the __any lookup
        from comms.models import Component
        from comms.statuspage import invalidate_status_page

        post_save.connect(
            lambda **kwargs: invalidate_status_page(),
            sender=Component,
            weak=False,
            dispatch_uid="comms.component_public",
        )
        # Once per migrate (sender=self): grant permissions of models added since the groups were made.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="comms.sync_roles")
