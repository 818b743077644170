from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from core.demo import steps as demo_steps
        from incidents import demo

        demo_steps.register(demo.demo_components)
        demo_steps.register(demo.demo_incidents)
        from core.roles import COMMS_LEAD, EVERY_ROLE, grant

        grant(EVERY_ROLE, "incidents.view_incident", "incidents.view_component", "incidents.view_timelineentry")
        grant(COMMS_LEAD, "incidents.add_incident", "incidents.change_incident", "incidents.add_component",
              "incidents.change_component")
