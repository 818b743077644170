from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from incidents.models import Component, ComponentGroup
        from incidents.signals import public_change

        def component_saved_or_deleted(sender, **kwargs):
            public_change.send(sender=sender)  # names, groups and order are on the status page

        for model in (Component, ComponentGroup):
            post_save.connect(component_saved_or_deleted, sender=model,
                              dispatch_uid=f"incidents.public.{model.__name__}")
            post_delete.connect(component_saved_or_deleted, sender=model,
                                dispatch_uid=f"incidents.public.deleted.{model.__name__}")
        from core.demo import steps as demo_steps
        from incidents import demo

        demo_steps.register(demo.demo_components)
        demo_steps.register(demo.demo_incidents)
        from core.roles import COMMS_LEAD, EVERY_ROLE, grant

        grant(EVERY_ROLE, "incidents.view_incident", "incidents.view_component", "incidents.view_timelineentry",
              "incidents.view_componentgroup", "incidents.view_componentstatuschange")
        grant(COMMS_LEAD, "incidents.add_incident", "incidents.change_incident", "incidents.add_component",
              "incidents.change_component", "incidents.add_componentgroup", "incidents.change_componentgroup",
              "incidents.delete_componentgroup")
        # Maintenance windows: everyone reads them; leads write them (comms.maintenance: leads approve them too).
        grant(EVERY_ROLE, "incidents.view_maintenance", "incidents.view_maintenanceevent")
        grant(COMMS_LEAD, "incidents.add_maintenance", "incidents.change_maintenance")
