"""The three roles and what each may do, as data.

A data migration creates the groups; after every `migrate` the groups' permissions are set to exactly
this table, so that models added later are granted without another hand-written migration. A system
check (comms.checks) fails when a permission named here does not exist.
"""

COMMS_LEAD = "Communications lead"
ACCOUNT_MANAGER = "Account manager"
SUPPORT = "Support"
ROLES = (COMMS_LEAD, ACCOUNT_MANAGER, SUPPORT)

_READ_INCIDENTS = ["comms.view_incident", "comms.view_component", "comms.view_timelineentry"]
_WRITE_MESSAGES = [
    "comms.view_message", "comms.add_message", "comms.change_message", "comms.view_messagetemplate",
    "comms.view_delivery",
]

_READ_ACCOUNTS = [
    "accounts.view_account", "accounts.view_contact", "accounts.view_impact", "accounts.view_followup",
    "accounts.view_compensation", "accounts.view_accountevent",
]
# Object-level rules (a manager works only the accounts they own) are in accounts/rules.py.
_WORK_ACCOUNTS = [
    "accounts.add_account", "accounts.change_account", "accounts.add_contact", "accounts.change_contact",
    "accounts.delete_contact", "accounts.add_impact", "accounts.change_impact", "accounts.add_followup",
    "accounts.change_followup", "accounts.add_compensation", "accounts.change_compensation",
]

_REVIEW_MENTIONS = ["sentiment.view_mention", "sentiment.review_mention", "sentiment.add_mention"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    COMMS_LEAD: [
        *_READ_INCIDENTS,
        *_WRITE_MESSAGES,
        *_REVIEW_MENTIONS,
        "comms.add_incident",
        "comms.change_incident",
        "comms.add_component",
        "comms.change_component",
        "comms.approve_message",
        "comms.publish_preapproved_message",
        "comms.add_messagetemplate",
        "comms.change_messagetemplate",
        "comms.view_subscriber",
        "comms.add_subscriber",
        "comms.change_subscriber",
        "comms.delete_subscriber",
        *_READ_ACCOUNTS,
        "accounts.add_impact",
        "accounts.approve_compensation",
    ],
    ACCOUNT_MANAGER: [*_READ_INCIDENTS, *_WRITE_MESSAGES, "sentiment.view_mention", *_READ_ACCOUNTS, *_WORK_ACCOUNTS],
    SUPPORT: [
        *_READ_INCIDENTS, *_WRITE_MESSAGES, *_REVIEW_MENTIONS, "comms.publish_preapproved_message", *_READ_ACCOUNTS,
    ],
}


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
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is None:
                missing.append(name)
            else:
                permissions.append(permission)
        group.permissions.set(permissions)
    return missing
