"""A service's refusal raised inside a ModelAdmin's save_model becomes an error on the admin's form."""

from ..exceptions import PlanRuleViolation


class RefusalAsFormErrorMixin:
    """For ModelAdmins whose `save_model` calls a service (plan_admin.services).

    Django's admin validates the form, then calls `save_model`; a PlanRuleViolation raised there would be a server
    error. Here it rolls back the admin's transaction (nothing was written: the service refused before writing),
    and the same form is shown again with the refusal on the field it names, or on the form as a whole.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PlanRuleViolation as refusal:
            if request.method != "POST" or getattr(request, "_service_refusal", None) is not None:
                raise
            request._service_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                field = refusal.field if getattr(refusal, "field", None) in self.fields else None
                self.add_error(field, refusal.messages)
                return cleaned_data

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm
