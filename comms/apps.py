from django.apps import AppConfig

_WRITE_MESSAGES = (
    "comms.view_message", "comms.add_message", "comms.change_message", "comms.view_messagetemplate",
    "comms.view_delivery",
)


class CommsConfig(AppConfig):
    name = "comms"
    verbose_name = "Communications"

    def ready(self):
        from comms.demo import demo_comms
        from core.demo import steps as demo_steps

        demo_steps.register(demo_comms)
        from django.db.models.signals import post_save

        from accounts import hooks as account_hooks
        from comms import approvals, messaging, outreach
        from comms.models import Message
        from comms.statuspage import invalidate_status_page
        from core.roles import COMMS_LEAD, EVERY_ROLE, SUPPORT, grant
        from incidents.models import Component
        from incidents.signals import incident_changed, public_change

        grant(EVERY_ROLE, *_WRITE_MESSAGES)
        grant(COMMS_LEAD, "comms.approve_message", "comms.publish_preapproved_message", "comms.add_messagetemplate",
              "comms.change_messagetemplate", "comms.view_subscriber", "comms.add_subscriber",
              "comms.change_subscriber", "comms.delete_subscriber")
        grant(SUPPORT, "comms.publish_preapproved_message")
        # Subscribers' webhooks (comms.endpoints): leads see the disabled ones and may enable one again.
        grant(COMMS_LEAD, "comms.view_subscriberendpoint", "comms.change_subscriberendpoint")

        account_hooks.message_drafter.register(outreach.draft_account_message)
        account_hooks.timeline_sources.register(outreach.messages_to_account)
        account_hooks.awaiting_approval.register(approvals.announce_compensation)
        post_save.connect(approvals.message_saved, sender=Message, dispatch_uid="comms.awaiting_approval")
        public_change.connect(lambda **kwargs: invalidate_status_page(), weak=False, dispatch_uid="comms.public")
        from anymail.signals import tracking

        from comms.deliverability import check_tracking_settings, record_tracking_event

        check_tracking_settings()
        tracking.connect(record_tracking_event, dispatch_uid="comms.email_tracking")
        incident_changed.connect(
            lambda incident, changes, **kwargs: messaging.reopen_approvals(incident, changes),
            weak=False, dispatch_uid="comms.reopen_approvals",
        )
        post_save.connect(
            lambda **kwargs: invalidate_status_page(),
            sender=Component,
            weak=False,
            dispatch_uid="comms.component_public",
        )
