"""The three roles, and a registry of what each may do, as data.

Each app grants its own model permissions to the roles in its AppConfig.ready() (`grant(SUPPORT,
"sentiment.view_mention")`), so this module names no app. After every `migrate` the role groups are created
and their permissions set to exactly the registered table (core.apps), so that models added later are granted
without a hand-written migration; a permission named here that does not exist stops the migrate with its name.
Object-level rules (a manager works only the accounts they own) live with their app (accounts/rules.py).
"""

COMMS_LEAD = "Communications lead"
ACCOUNT_MANAGER = "Account manager"
SUPPORT = "Support"
ROLES = (COMMS_LEAD, ACCOUNT_MANAGER, SUPPORT)
EVERY_ROLE = ROLES

ROLE_PERMISSIONS: dict[str, set[str]] = {role: set() for role in ROLES}


def grant(roles: str | tuple[str, ...], *permissions: str) -> None:
    """Give one role (or several) these permissions, as `app_label.codename`."""
    for role in (roles,) if isinstance(roles, str) else roles:
        ROLE_PERMISSIONS[role].update(permissions)


def role_of(user) -> str | None:
    """The user's role name for display: 'Admin' for superusers, else their first role group."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return "Admin"
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)


def sync_role_permissions(apps=None, verbosity: int = 0) -> list[str]:
    """Create the role groups and set their permissions to ROLE_PERMISSIONS. Returns unknown names."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in apps.get_app_configs():
        # Permissions are normally created after migrate; inside a migration they must be made first.
        # create_permissions skips apps without a models module, which migration-state stubs lack.
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        if stub:
            app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    missing = []
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in sorted(names):
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is None:
                missing.append(name)
            else:
                permissions.append(permission)
        group.permissions.set(permissions)
    return missing
