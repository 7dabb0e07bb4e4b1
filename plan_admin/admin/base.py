"""What every ledger admin shares: read-only history, no deletion, no editing, writes through service forms."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from .. import forms
from ..exceptions import PlanRuleViolation
from ..security.admin_forms import RefusalAsFormErrorMixin
from ..security.inputs import parse_id
from ..selectors import plans_with_pool
from .formatted import FormattedFieldsMixin


def object_pk(object_id) -> int:
    """An admin URL's object id as a primary key; anything but a row id in ASCII digits is a 404, not a 500."""
    pk = parse_id(unquote(str(object_id)))
    if pk is None:
        raise Http404("There is no such record.")
    return pk


class ReadOnlyAdmin(FormattedFieldsMixin, admin.ModelAdmin):
    """A ledger table with no history of its own (its rows never change): list and view only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_object(self, request, object_id, from_field=None):
        try:
            object_pk(object_id)
        except Http404:
            return None
        return super().get_object(request, object_id, from_field)


class ReadOnlyHistoryAdmin(FormattedFieldsMixin, RefusalAsFormErrorMixin, SimpleHistoryAdmin):
    """django-simple-history's history pages, read-only for everyone.

    The library's version page saves the old version back on POST for anyone who may view the object (its
    SIMPLE_HISTORY_REVERT_DISABLED only hides the button): here the version page answers GET only, so no role can
    write history back, and the database refuses any change to a history row besides.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        object_pk(object_id)
        object_pk(version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        object_pk(object_id)
        return super().history_view(request, object_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_object(self, request, object_id, from_field=None):
        try:
            object_pk(object_id)
        except Http404:
            return None
        return super().get_object(request, object_id, from_field)


class LedgerAdmin(ReadOnlyHistoryAdmin):
    """Base of every ledger admin: history visible, nothing edited in place, writes through `service_form_view`."""

    add_form_class: type[forms.ServiceForm] | None = None
    add_permission: str | None = None  # defaults to the model's add permission
    add_title = ""
    add_success_message = "{obj} recorded."

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        if self.add_form_class is None:
            return False
        if self.add_permission:
            return request.user.has_perm(self.add_permission)
        return super().has_add_permission(request)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self.service_form_view(
            request,
            form_class=self.add_form_class,
            form_kwargs=self.get_add_form_kwargs(request),
            title=self.add_title or f"Record {self.opts.verbose_name}",
            success_message=self.add_success_message,
            log_addition=True,
        )

    def get_add_form_kwargs(self, request) -> dict:
        return {"initial": request.GET.dict()}

    def service_form_view(
        self,
        request: HttpRequest,
        *,
        form_class,
        title: str,
        success_message: str,
        form_kwargs: dict | None = None,
        log_addition: bool = False,
        success_url: str | None = None,
        obj=None,
        intro: str = "",
    ):
        """Show `form_class`; on a valid POST call its service, turning a refusal into a form error."""
        form_kwargs = form_kwargs or {}
        if request.method == "POST":
            form = form_class(request.POST, **form_kwargs)
            if form.is_valid():
                try:
                    written = form.submit(by=request.user)
                except PlanRuleViolation as refusal:
                    form.add_refusal(refusal)
                else:
                    if log_addition:
                        self.log_addition(request, written, [{"added": {}}])
                    self.message_user(request, success_message.format(obj=written), messages.SUCCESS)
                    return HttpResponseRedirect(success_url or self.success_url_after(written))
        else:
            form = form_class(**form_kwargs)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "intro": intro,
            "form": form,
            "object": obj,
            "pools": plans_with_pool(),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/plan_admin/service_form.html", context)

    def success_url_after(self, written) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def object_view(self, request, object_id, *, permission: str, queryset=None):
        """The object of a custom object view, after its permission; a bad id is a 404."""
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return get_object_or_404(
            queryset if queryset is not None else self.model.objects.all(), pk=object_pk(object_id)
        )

    def post_action(self, request, object_id, *, permission: str, act, done: str, queryset=None):
        """A POST-only button on an object's page (withdraw, ...): call `act(obj)`, show its refusal or `done`."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.object_view(request, object_id, permission=permission, queryset=queryset)
        try:
            act(obj)
        except PlanRuleViolation as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
        else:
            self.message_user(request, done.format(obj=obj), messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        )

    def object_urls(self, *views: tuple[str, object, str]) -> list:
        """URL patterns `<object_id>/<suffix>/` for custom views, named `<app>_<model>_<name>`."""
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(f"<path:object_id>/{suffix}/", self.admin_site.admin_view(view), name=f"{info}_{name}")
            for suffix, view, name in views
        ]
