"""The app's one formatting rule in the admin (plan_admin.formatting): every ModelAdmin and inline shows

- years as written (2025, never "2,025") and row ids without separators,
- money with its currency and the decimals it needs ($0.15, par $0.001), never "0.150000",
- people by full name with the username on hover, as text: a user's admin page answers 403 to staff, the board and
  auditors, so a recorder, voter or proposer is never a link.

Declared `list_display`, `fields` and `readonly_fields` stay as they are; each shown (never edited) model field of
those kinds is swapped for a display function built from the same plan_admin.formatting functions as the
templates' filters, sortable by the field.
"""

from django.conf import settings
from django.contrib.admin import helpers
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .. import formatting

SUFFIX = "_shown"


def _person_html(user):
    if user is None:
        return "—"
    return format_html('<span class="person" title="{}">{}</span>', formatting.username(user), formatting.person(user))


def _kind(field) -> str | None:
    if field.is_relation and (field.many_to_one or field.one_to_one) and not field.auto_created:
        model = field.related_model
        if model is not None and model._meta.label == settings.AUTH_USER_MODEL:
            return "person"
        return None
    if field.name == "year" and isinstance(field, models.IntegerField):
        return "year"
    if isinstance(field, models.AutoField | models.BigAutoField):
        return "id"
    if isinstance(field, models.DecimalField):
        return "money"
    return None


def _display_function(field, kind: str):
    name = field.name

    def shown(obj):
        value = getattr(obj, name, None)
        if kind == "person":
            return _person_html(value)
        if value in (None, ""):
            return "—"
        if kind == "year":
            return formatting.year(value)
        if kind == "id":
            return str(value)
        return formatting.money(value)

    shown.short_description = "ID" if kind == "id" else capfirst(field.verbose_name)
    shown.admin_order_field = name
    return shown


class FormattedFieldsMixin:
    """Swap shown model fields for their formatted display (see the module's docstring)."""

    def action_checkbox(self, obj):
        """Django's row checkbox, the same HTML, without rendering a form widget through the template engine for
        every row (a quarter of a 50-row list's time)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def _formatted(self, name):
        if not isinstance(name, str):
            return name
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        kind = _kind(field)
        if kind is None:
            return name
        shown = name + SUFFIX
        if not hasattr(self, shown):
            setattr(self, shown, _display_function(field, kind))
        return shown

    def _formatted_all(self, names):
        return [self._formatted(name) for name in names]

    def get_list_display(self, request):
        return self._formatted_all(super().get_list_display(request))

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return self._formatted_all(links) if links else links

    def get_readonly_fields(self, request, obj=None):
        readonly = self._formatted_all(super().get_readonly_fields(request, obj))
        if self._shown_only(request, obj):
            # A view-only page (and django-simple-history's version page) shows every field: each swapped one is a
            # display function, never a form field.
            for field in self.model._meta.concrete_fields:
                if field.editable and _kind(field) not in (None, "id"):
                    shown = self._formatted(field.name)
                    if shown not in readonly:
                        readonly.append(shown)
        return readonly

    def get_exclude(self, request, obj=None):
        """The swapped fields' own names stay out of the form: shown, never edited."""
        excluded = super().get_exclude(request, obj)
        swapped = [name for name in super().get_readonly_fields(request, obj) if self._formatted(name) != name]
        if not swapped:
            return excluded
        return [*(excluded or []), *swapped]

    def _shown_only(self, request, obj) -> bool:
        return not self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self._shown_only(request, obj):
            fields = self._formatted_all(fields)
        else:
            readonly = set(super().get_readonly_fields(request, obj))
            fields = [self._formatted(name) if name in readonly else name for name in fields]
        return list(dict.fromkeys(fields))  # once each, in the order first given

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.fieldsets:
            return fieldsets
        readonly = set(super().get_readonly_fields(request, obj))
        everything = self._shown_only(request, obj)
        return [
            (
                title,
                {
                    **options,
                    "fields": [
                        self._formatted(name) if everything or name in readonly else name for name in options["fields"]
                    ],
                },
            )
            for title, options in fieldsets
        ]


__all__ = ["FormattedFieldsMixin"]
