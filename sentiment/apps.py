from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "sentiment"

    def ready(self):
        from comms import services
        from sentiment.review import unreviewed_blockers

        if unreviewed_blockers not in services.close_checks:
            services.close_checks.append(unreviewed_blockers)
