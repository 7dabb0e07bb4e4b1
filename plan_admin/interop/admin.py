"""The plan admin's OCF pages: the issuer details OCF requires (superuser), and the import of an OCF package with
a preview (staff who enter history from records). PlanAdmin takes them from OcfPlanAdminMixin."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .. import forms as plan_forms
from ..reports import pending_imports
from .issuer import issuer_details, issuer_details_record
from .ocf_import import import_package

IMPORT_KIND = "ocf"
IMPORT_PERMISSION = "plan_admin.record_past_records"


class IssuerDetailsForm(plan_forms.PlanBoundForm):
    formation_date = forms.DateField(widget=plan_forms.DateInput, label="Date the company was formed")
    country_of_formation = forms.CharField(
        max_length=2, label="Country of formation", help_text="ISO 3166-1 alpha-2, e.g. US."
    )
    country_subdivision = forms.CharField(
        max_length=3,
        required=False,
        label="State or province of formation",
        help_text="ISO 3166-2 subdivision code, e.g. NV (optional).",
    )
    class_authorized_shares = forms.IntegerField(
        min_value=1,
        required=False,
        label="Authorized shares of the class",
        help_text="The company's authorized shares of the plan's class of stock (optional; OCF's "
        '"NOT APPLICABLE" when empty).',
    )
    votes_per_share = forms.CharField(max_length=20, required=False, help_text="Default 1.")

    def __init__(self, *args, plan, **kwargs):
        current = issuer_details(plan)
        kwargs.setdefault(
            "initial",
            {
                "formation_date": current.get("formation_date"),
                "country_of_formation": current.get("country_of_formation"),
                "country_subdivision": current.get("country_subdivision_of_formation"),
            },
        )
        super().__init__(*args, plan=plan, **kwargs)

    def submit(self, *, by):
        data = self.cleaned_data
        return issuer_details_record(
            plan=self.plan,
            formation_date=data["formation_date"],
            country_of_formation=data["country_of_formation"],
            country_subdivision=data["country_subdivision"],
            class_authorized_shares=data["class_authorized_shares"],
            votes_per_share=data["votes_per_share"],
            by=by,
        )


class OcfImportForm(forms.Form):
    file = forms.FileField(label="OCF package (.zip)")
    plan_name = forms.CharField(
        max_length=200, required=False, help_text="The new plan's name; empty: the package's stock plan name."
    )
    effective_date = forms.DateField(
        widget=plan_forms.DateInput,
        required=False,
        help_text="The plan's effective date, if the package does not say it (OCF has no field for it).",
    )
    required_approvals = forms.IntegerField(
        min_value=1,
        max_value=50,
        required=False,
        help_text="Approving votes a decision of the board needs (default: the package's, or 1).",
    )
    skip_unsupported = forms.BooleanField(
        required=False,
        label="Skip what plan-admin does not hold",
        help_text="Options, warrants, convertibles, vesting...: skipped and listed instead of refusing the package.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is not None and upload.size > settings.OCF_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; an OCF package may be at most "
                f"{settings.OCF_IMPORT_MAX_BYTES / 1024 / 1024:.0f} MB."
            )
        return upload


class OcfPlanAdminMixin:
    def get_urls(self):
        wrap = self.admin_site.admin_view
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("import-ocf/", wrap(self.ocf_import_view), name=f"{info}_import_ocf"),
            *self.object_urls(("ocf-issuer", self.ocf_issuer_view, "ocf_issuer")),
        ] + super().get_urls()

    def ocf_issuer_view(self, request, object_id):
        if not request.user.is_superuser:
            raise PermissionDenied
        return self._plan_form_view(
            request,
            object_id,
            permission="plan_admin.change_plan",
            form_class=IssuerDetailsForm,
            title="OCF issuer details",
            message="The issuer's details for OCF exports of {obj.plan} are recorded.",
            intro="An Open Cap Format package names the issuing company with its date and country of formation, which "
            "the ledger does not hold. Record them once; every export of this plan uses them.",
        )

    def ocf_import_view(self, request):
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied
        form, report, token, options = OcfImportForm(), None, None, {}
        if request.method == "POST" and request.POST.get("action") == "confirm":
            stored = pending_imports.claim(request, kind=IMPORT_KIND, token=request.POST.get("token", ""))
            if stored is None:
                messages.error(request, "That preview has expired or was already imported. Upload the package again.")
                return HttpResponseRedirect(request.path)
            options = _options(request.POST)
            try:
                report = import_package(stored, by=request.user, commit=True, **options)
            finally:
                stored.close()
            if report.committed:
                messages.success(
                    request,
                    f'Imported {stored.name} as the plan "{report.plan.name}". Its history '
                    "waits on the board's page for a board member's confirmation.",
                )
                return HttpResponseRedirect(reverse("admin:plan_admin_plan_change", args=[report.plan.pk]))
            messages.error(
                request, "The ledger changed since the preview, and the package is now refused. Nothing was imported."
            )
        elif request.method == "POST":
            form = OcfImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                options = {
                    key: form.cleaned_data[key]
                    for key in ("plan_name", "effective_date", "required_approvals", "skip_unsupported")
                }
                report = import_package(upload, by=request.user, commit=False, **_clean(options))
                if report.ok:
                    token = pending_imports.save(request, kind=IMPORT_KIND, upload=upload)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import an Open Cap Format (OCF 1.2.0) package",
            "form": form,
            "report": report,
            "token": token,
            "options": {key: ("" if value is None else value) for key, value in options.items()},
            "max_mb": f"{settings.OCF_IMPORT_MAX_BYTES / (1024 * 1024):.0f}",
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/plan_admin/plan/ocf_import.html", context)


def _clean(options: dict) -> dict:
    return {
        "plan_name": options.get("plan_name") or None,
        "effective_date": options.get("effective_date") or None,
        "required_approvals": options.get("required_approvals") or None,
        "skip_unsupported": bool(options.get("skip_unsupported")),
    }


def _options(post) -> dict:
    """The preview's options, posted back with the confirmation (the import checks everything again)."""
    form = OcfImportForm(
        {key: post.get(key, "") for key in ("plan_name", "effective_date", "required_approvals")}
        | ({"skip_unsupported": "on"} if post.get("skip_unsupported") in ("True", "on") else {})
    )
    form.fields["file"].required = False
    form.is_valid()
    return _clean(
        {
            key: form.cleaned_data.get(key)
            for key in ("plan_name", "effective_date", "required_approvals", "skip_unsupported")
        }
    )
