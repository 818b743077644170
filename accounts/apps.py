from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer accounts"

    def ready(self):
        from accounts.services import incident_close_blockers
        from comms import services

        if incident_close_blockers not in services.close_checks:
            services.close_checks.append(incident_close_blockers)
