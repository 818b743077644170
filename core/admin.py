from django.contrib import admin

from core.models import WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their own flow (or never): the admin shows them, nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at"]
