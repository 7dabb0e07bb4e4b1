"""Participants, kept by staff. Changes go through services.participant_create / participant_update."""

from django import forms as django_forms
from django.contrib import admin

from .. import services
from ..exceptions import PlanRuleViolation
from ..models import Participant
from ..reports.admin_mixins import SpreadsheetAdminMixin
from ..services.participants import clean_participant_fields
from .base import ReadOnlyHistoryAdmin

FIELDS = ["name", "category", "email", "user", "notes"]


class ParticipantForm(django_forms.ModelForm):
    class Meta:
        model = Participant
        fields = FIELDS

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                clean_participant_fields(
                    name=cleaned.get("name"),
                    category=cleaned.get("category"),
                    email=cleaned.get("email"),
                    notes=cleaned.get("notes"),
                )
            except PlanRuleViolation as refusal:
                self.add_error(refusal.field if refusal.field in self.fields else None, refusal.messages)
        return cleaned


@admin.register(Participant)
class ParticipantAdmin(SpreadsheetAdminMixin, ReadOnlyHistoryAdmin):
    form = ParticipantForm
    list_display = ["name", "category", "email", "user"]
    list_filter = ["category"]
    list_select_related = ["user"]
    search_fields = ["name", "email"]

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in FIELDS}
        if change:
            saved = services.participant_update(participant=obj, by=request.user, **data)
        else:
            saved = services.participant_create(by=request.user, **data)
        obj.pk = saved.pk
