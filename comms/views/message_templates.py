"""Message templates for communications leads: list, create, edit (placeholders are checked on save)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import CreateView, ListView, UpdateView

from comms.channels import channel_choices
from comms.models import MessageTemplate
from comms.rendering import PLACEHOLDERS, unknown_placeholders
from core.views import RolePermissionMixin

CONTENT = ("headline", "explain", "acknowledge", "resolve", "study")


class MessageTemplateForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(choices=channel_choices, required=False, widget=forms.CheckboxSelectMultiple,
                                         help_text="Selected by default when a message is made from this template.")

    class Meta:
        model = MessageTemplate
        fields = ["name", "phase", "pre_approved", *CONTENT, "channels"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in CONTENT[1:]}

    def clean(self):
        data = super().clean()
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        for name in CONTENT:
            unknown = unknown_placeholders(data.get(name) or "")
            if unknown:
                self.add_error(name, f"Unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {known}.")
        return data


class MessageTemplateListView(RolePermissionMixin, ListView):
    permission_required = "comms.view_messagetemplate"
    model = MessageTemplate
    template_name = "comms/template_list.html"
    context_object_name = "message_templates"

    def get_context_data(self, **kwargs):
        return super().get_context_data(placeholders=PLACEHOLDERS, **kwargs)


class MessageTemplateEditMixin(RolePermissionMixin):
    model = MessageTemplate
    form_class = MessageTemplateForm
    template_name = "comms/template_form.html"
    success_url = reverse_lazy("message-templates")

    def get_context_data(self, **kwargs):
        return super().get_context_data(placeholders=PLACEHOLDERS, **kwargs)

    def form_valid(self, form):
        form.instance.written_by = self.request.user  # an author of messages left as it makes them (four eyes)
        self.object = form.save()
        messages.success(self.request, f"Template “{self.object.name}” saved.")
        return redirect(self.success_url)


class MessageTemplateCreateView(MessageTemplateEditMixin, CreateView):
    permission_required = "comms.add_messagetemplate"


class MessageTemplateUpdateView(MessageTemplateEditMixin, UpdateView):
    permission_required = "comms.change_messagetemplate"
