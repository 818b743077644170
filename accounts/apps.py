from django.apps import AppConfig

_READ_ACCOUNTS = (
    "accounts.view_account", "accounts.view_contact", "accounts.view_impact", "accounts.view_followup",
    "accounts.view_compensation", "accounts.view_accountevent",
)
_WORK_ACCOUNTS = (
    "accounts.add_account", "accounts.change_account", "accounts.add_contact", "accounts.change_contact",
    "accounts.delete_contact", "accounts.add_impact", "accounts.change_impact", "accounts.add_followup",
    "accounts.change_followup", "accounts.add_compensation", "accounts.change_compensation",
)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer accounts"

    def ready(self):
        from accounts.demo import demo_accounts
        from core.demo import steps as demo_steps

        demo_steps.register(demo_accounts)
        from accounts.services import incident_close_blockers
        from core.roles import ACCOUNT_MANAGER, COMMS_LEAD, EVERY_ROLE, grant
        from incidents import hooks

        grant(EVERY_ROLE, *_READ_ACCOUNTS)
        grant(ACCOUNT_MANAGER, *_WORK_ACCOUNTS)
        grant(COMMS_LEAD, "accounts.add_impact", "accounts.approve_compensation")
        hooks.close_checks.register(incident_close_blockers)
