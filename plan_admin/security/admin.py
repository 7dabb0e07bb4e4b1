"""The superuser's page for second-factor enrolment links: issue one for a named user, see every link issued."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import EnrolmentLink


class IssueLinkForm(forms.ModelForm):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        help_text="The link works only for this user, logged in with their password.",
    )

    class Meta:
        model = EnrolmentLink
        fields = ["user"]


@admin.register(EnrolmentLink)
class EnrolmentLinkAdmin(admin.ModelAdmin):
    """Superusers only. A link is shown once, when issued; the list keeps who issued it, for whom, and its use."""

    form = IssueLinkForm
    list_display = ["user", "issued_by", "issued_at", "expires_at", "used_at", "state"]
    list_select_related = ["user", "issued_by"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "issued_by", "issued_at", "expires_at", "used_at", "state"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="State")
    def state(self, link):
        return link.state

    def save_model(self, request, obj, form, change):
        link, token = EnrolmentLink.issue(user=form.cleaned_data["user"], by=request.user)
        obj.pk, obj.token, obj.issued_at, obj.expires_at = link.pk, token, link.issued_at, link.expires_at
        obj.issued_by = request.user

    def response_add(self, request, obj, post_url_continue=None):
        url = request.build_absolute_uri(reverse("two-factor-enrol", args=[obj.token]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Enrolment link for {obj.user}",
            "link": obj,
            "url": url,
        }
        return TemplateResponse(request, "admin/plan_admin/enrolmentlink/issued.html", context)
