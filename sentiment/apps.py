from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "sentiment"

    def ready(self):
        from core.demo import steps as demo_steps
        from sentiment.demo import demo_mentions

        demo_steps.register(demo_mentions)
        from accounts import hooks as account_hooks
        from comms import hooks as comms_hooks
        from core.roles import ACCOUNT_MANAGER, COMMS_LEAD, SUPPORT, grant
        from incidents import hooks as incident_hooks
        from sentiment.linking import mentions_from_account, negative_mentions_of_impact
        from sentiment.review import unreviewed_blockers
        from sentiment.views import dashboard_panel, incident_panel

        grant((COMMS_LEAD, SUPPORT), "sentiment.view_mention", "sentiment.review_mention", "sentiment.add_mention")
        grant(ACCOUNT_MANAGER, "sentiment.view_mention")
        incident_hooks.close_checks.register(unreviewed_blockers)
        incident_hooks.page_panels.register(incident_panel)
        comms_hooks.dashboard_panels.register(dashboard_panel)
        account_hooks.negative_mentions.register(negative_mentions_of_impact)
        account_hooks.timeline_sources.register(mentions_from_account)
