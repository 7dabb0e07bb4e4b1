"""Forms that collect a user's input and hand it to a service. They check types; the services decide.

Each form's `submit(by=user)` calls one service and returns what it wrote; a refusal propagates as a
PlanRuleViolation, which `add_refusal` turns into a form error on the field it names.
"""

import uuid

from django import forms

from .exceptions import PlanRuleViolation
from .models import MAX_YEAR, MIN_YEAR, BoardDesignation, DesignationVote, Issuance, Participant, Plan
from . import services



class SharesField(forms.IntegerField):
    """A whole number of shares, accepting the way people write them: "250,000" or "250 000"."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(",", "").replace("_", "").replace(" ", "").replace("\u00a0", "")
        return super().to_python(value)


SHARES_FIELD_OPTIONS = {"min_value": 1, "max_value": services.MAX_SHARES}


class DateInput(forms.DateInput):
    input_type = "date"


class ServiceForm(forms.Form):
    """A form whose `submit()` calls one service; `add_refusal` shows that service's refusal on the form."""

    def add_refusal(self, refusal: PlanRuleViolation) -> None:
        field = refusal.field if refusal.field in self.fields else None
        self.add_error(field, refusal.messages)

    def submit(self, *, by):  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class DesignationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, designation: BoardDesignation) -> str:
        return (
            f"{designation.participant.name} – {designation.year} – {designation.unissued_shares:,} of "
            f"{designation.shares:,} shares left ({designation.plan.name})"
        )


class IssuanceForm(ServiceForm):
    designation = DesignationChoiceField(
        queryset=BoardDesignation.objects.none(),
        help_text="An approved designation of the year of the issue date.",
    )
    issue_date = forms.DateField(widget=DateInput)
    shares = SharesField(**SHARES_FIELD_OPTIONS)
    kind = forms.ChoiceField(choices=Issuance.Kind.choices, initial=Issuance.Kind.COMPENSATION)
    price_per_share = forms.DecimalField(min_value=0, max_digits=14, decimal_places=6, help_text="In dollars.")
    debt_amount = forms.DecimalField(
        required=False, min_value=0, max_digits=16, decimal_places=2, help_text="Debt settlements only, in dollars."
    )
    debt_reference = forms.CharField(required=False, max_length=200, help_text="Debt settlements only.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000)
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, plan: Plan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        designations = (
            BoardDesignation.objects.filter(status=BoardDesignation.Status.APPROVED)
            .select_related("participant", "plan")
            .order_by("-year", "participant__name")
        )
        if plan is not None:
            designations = designations.filter(plan=plan)
        self.fields["designation"].queryset = designations
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())

    def submit(self, *, by) -> Issuance:
        data = self.cleaned_data
        return services.issuance_record(
            designation=data["designation"],
            issue_date=data["issue_date"],
            shares=data["shares"],
            kind=data["kind"],
            price_per_share=data["price_per_share"],
            debt_amount=data["debt_amount"],
            debt_reference=data["debt_reference"],
            notes=data["notes"],
            plan=self.plan,
            submission_key=data["submission_key"],
            by=by,
        )


class DesignationProposalForm(ServiceForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.all())
    participant = forms.ModelChoiceField(queryset=Participant.objects.all())
    year = forms.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR)
    shares = SharesField(**SHARES_FIELD_OPTIONS)
    factors_considered = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)

    def submit(self, *, by) -> BoardDesignation:
        return services.designation_propose(by=by, **self.cleaned_data)


class ReserveChangeForm(ServiceForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.all())
    shares = SharesField(
        min_value=-services.MAX_SHARES,
        max_value=services.MAX_SHARES,
        help_text="Positive to increase the reserve, negative to decrease it.",
    )
    board_approval_date = forms.DateField(widget=DateInput)
    resolution_reference = forms.CharField(required=False, max_length=200)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000)

    def submit(self, *, by):
        return services.reserve_change_record(by=by, **self.cleaned_data)


class PlanCreateForm(ServiceForm):
    company_name = forms.CharField(max_length=200)
    name = forms.CharField(max_length=200, label="Plan name")
    purpose = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    stock_class = forms.CharField(max_length=100, initial="Common Stock", label="Class of stock")
    par_value = forms.DecimalField(min_value=0, max_digits=12, decimal_places=6, help_text="Dollars per share.")
    initial_shares = SharesField(**SHARES_FIELD_OPTIONS, label="Shares initially authorized")
    board_approval_date = forms.DateField(widget=DateInput)
    resolution_reference = forms.CharField(required=False, max_length=200)
    effective_date = forms.DateField(widget=DateInput, required=False, help_text="Leave empty if not known yet.")
    required_approvals = forms.IntegerField(min_value=1, max_value=50, initial=1)

    def submit(self, *, by) -> Plan:
        return services.plan_create(by=by, **self.cleaned_data)


class EffectiveDateForm(ServiceForm):
    effective_date = forms.DateField(
        widget=DateInput, required=False, help_text="Leave empty to record that the date is not known."
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def submit(self, *, by) -> Plan:
        return services.plan_set_effective_date(plan=self.plan, effective_date=self.cleaned_data["effective_date"], by=by)


class TerminationForm(ServiceForm):
    termination_date = forms.DateField(widget=DateInput)
    resolution_reference = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def submit(self, *, by) -> Plan:
        return services.plan_terminate(plan=self.plan, by=by, **self.cleaned_data)


class CancellationForm(ServiceForm):
    cancelled_on = forms.DateField(widget=DateInput, label="Cancellation date")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, issuance: Issuance, **kwargs):
        super().__init__(*args, **kwargs)
        self.issuance = issuance

    def submit(self, *, by):
        return services.issuance_cancel(issuance=self.issuance, by=by, **self.cleaned_data)


class VoteForm(ServiceForm):
    decision = forms.ChoiceField(choices=DesignationVote.Decision.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, designation: BoardDesignation, **kwargs):
        super().__init__(*args, **kwargs)
        self.designation = designation

    def submit(self, *, by) -> DesignationVote:
        return services.designation_vote(designation=self.designation, voter=by, **self.cleaned_data)

