"""Forms that collect a user's input and hand it to a service. They check types; the services decide.

Each form's `submit(by=user)` calls one service and returns what it wrote; a refusal propagates as a
PlanRuleViolation, which `add_refusal` turns into a form error on the field it names.
"""

import re
import uuid

from django import forms
from django.utils import timezone

from . import services
from .exceptions import PlanRuleViolation
from .models import (
    MAX_YEAR,
    MIN_YEAR,
    BoardDesignation,
    Issuance,
    Participant,
    Plan,
    PlanProposal,
    VoteDecision,
)

# Digits, optionally grouped in threes by commas, spaces or underscores ("250,000", "250 000"); never a decimal
# comma: "1,5" is refused rather than read as 15.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([,\u00a0\u202f _])\d{3})?(?:\1\d{3})*")


class SharesField(forms.IntegerField):
    """A whole number of shares, accepting the way people write them: "250,000" or "250 000", never "1,5"."""

    default_error_messages = {
        "invalid": "Enter a whole number of shares, in digits (thousands may be grouped: 250,000).",
    }
    # Text, not type=number: browsers refuse "250,000" in a number input, and that is how people write shares.
    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip()
            if _GROUPED.fullmatch(text):
                value = re.sub(r"[,\u00a0\u202f _]", "", text)
            elif not text.lstrip("+-").isascii():
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


SHARES_FIELD_OPTIONS = {"min_value": 1, "max_value": services.MAX_SHARES}


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value


def today_initial():
    return timezone.localdate()


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
    issue_date = forms.DateField(widget=DateInput, initial=today_initial)
    shares = SharesField(**SHARES_FIELD_OPTIONS)
    kind = forms.ChoiceField(choices=Issuance.Kind.choices, initial=Issuance.Kind.COMPENSATION)
    price_per_share = forms.DecimalField(min_value=0, max_digits=14, decimal_places=6, help_text="In dollars.")
    debt_amount = forms.DecimalField(
        required=False, min_value=0, max_digits=16, decimal_places=2, help_text="Debt settlements only, in dollars."
    )
    debt_reference = forms.CharField(required=False, max_length=200, help_text="Debt settlements only.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000)
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    from_records = False

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

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "designation",
                "issue_date",
                "shares",
                "kind",
                "price_per_share",
                "debt_amount",
                "debt_reference",
                "notes",
            )
        }

    def submit(self, *, by) -> Issuance:
        return services.issuance_record(
            **self.service_kwargs(), plan=self.plan, submission_key=self.cleaned_data["submission_key"], by=by
        )


class PastIssuanceForm(IssuanceForm):
    """An issuance made before the plan's ledger start date, entered from the company's records."""

    issue_date = forms.DateField(widget=DateInput)
    source_reference = forms.CharField(
        max_length=300,
        label="Source document",
        help_text="Where this issuance is recorded: stock ledger page, certificate, board minutes.",
    )

    def submit(self, *, by) -> Issuance:
        return services.issuance_record(
            **self.service_kwargs(),
            plan=self.plan,
            from_records=True,
            source_reference=self.cleaned_data["source_reference"],
            submission_key=self.cleaned_data["submission_key"],
            by=by,
        )


class DesignationProposalForm(ServiceForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.all())
    participant = forms.ModelChoiceField(queryset=Participant.objects.all())
    year = forms.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, localize=False)
    shares = SharesField(**SHARES_FIELD_OPTIONS)
    factors_considered = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)
    kind = forms.ChoiceField(
        choices=BoardDesignation.Kind.choices,
        initial=BoardDesignation.Kind.COMPENSATION,
        required=False,
        help_text="A debt settlement issues shares in exchange for cancelling a creditor's debt "
        "(plan 1.1); the board's approval records its finding that the debt is adequate "
        "consideration.",
    )
    debt_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
        help_text="Debt settlements only: the creditor's debt, in dollars.",
    )
    debt_reference = forms.CharField(
        required=False, max_length=200, help_text="Debt settlements only: the invoice, note or claim."
    )
    price_per_share = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=6,
        help_text="Debt settlements only: the price at which the debt buys shares (at least par).",
    )

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or BoardDesignation.Kind.COMPENSATION

    def submit(self, *, by) -> BoardDesignation:
        return services.designation_propose(by=by, **self.cleaned_data)


class PastDesignationForm(DesignationProposalForm):
    """A designation the board decided before the plan's ledger start date, entered from its records."""

    decision = forms.ChoiceField(
        choices=[(VoteDecision.APPROVE, "Approved"), (VoteDecision.REJECT, "Rejected")], label="The board's decision"
    )
    decided_on = forms.DateField(widget=DateInput, label="Date the board decided")
    decision_reference = forms.CharField(
        max_length=300, label="Minutes or written consent", help_text="The document that records the decision."
    )

    def submit(self, *, by) -> BoardDesignation:
        return services.past_designation_record(by=by, **self.cleaned_data)


class ReserveChangeProposalForm(ServiceForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.filter(termination_date__isnull=True))
    shares = SharesField(
        min_value=-services.MAX_SHARES,
        max_value=services.MAX_SHARES,
        help_text="Positive to increase the reserve, negative to decrease it.",
    )
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        help_text="Why the board is asked to change the reserve.",
    )

    def submit(self, *, by) -> PlanProposal:
        return services.reserve_change_propose(by=by, **self.cleaned_data)


class PastReserveChangeForm(ServiceForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.filter(ledger_start_date__isnull=False))
    shares = SharesField(
        min_value=-services.MAX_SHARES,
        max_value=services.MAX_SHARES,
        help_text="Positive for an increase, negative for a decrease.",
    )
    board_approval_date = forms.DateField(widget=DateInput, label="Date the board decided")
    resolution_reference = forms.CharField(max_length=300, label="Minutes or written consent")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000)

    def submit(self, *, by):
        return services.past_reserve_change_record(by=by, **self.cleaned_data)


class TerminationProposalForm(ServiceForm):
    termination_date = forms.DateField(widget=DateInput)
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        help_text="Why the board is asked to terminate the plan.",
    )

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def submit(self, *, by) -> PlanProposal:
        return services.termination_propose(plan=self.plan, by=by, **self.cleaned_data)


class PlanCreateForm(ServiceForm):
    company_name = forms.CharField(max_length=200)
    name = forms.CharField(max_length=200, label="Plan name")
    purpose = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    stock_class = forms.CharField(max_length=100, initial="Common Stock", label="Class of stock")
    par_value = forms.DecimalField(min_value=0, max_digits=12, decimal_places=6, help_text="Dollars per share.")
    initial_shares = SharesField(**SHARES_FIELD_OPTIONS, label="Shares initially authorized")
    board_approval_date = forms.DateField(widget=DateInput)
    resolution_reference = forms.CharField(required=False, max_length=300)
    effective_date = forms.DateField(widget=DateInput, required=False, help_text="Leave empty if not known yet.")
    required_approvals = forms.IntegerField(min_value=1, max_value=50, initial=1)
    ledger_start_date = forms.DateField(
        widget=DateInput,
        required=False,
        help_text="For a plan with history before plan-admin: the day from which plan-admin is the book of record. "
        "Earlier designations and issuances are then entered from records. Leave empty for a new plan.",
    )

    def submit(self, *, by) -> Plan:
        return services.plan_create(by=by, **self.cleaned_data)


class PlanBoundForm(ServiceForm):
    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan


class EffectiveDateForm(PlanBoundForm):
    effective_date = forms.DateField(
        widget=DateInput, required=False, help_text="Leave empty to record that the date is not known."
    )

    def submit(self, *, by) -> Plan:
        return services.plan_set_effective_date(
            plan=self.plan, effective_date=self.cleaned_data["effective_date"], by=by
        )


class LedgerStartForm(PlanBoundForm):
    ledger_start_date = forms.DateField(
        widget=DateInput,
        required=False,
        help_text="From this date on plan-admin is the book of record. Leave empty if the whole history is here.",
    )

    def submit(self, *, by) -> Plan:
        return services.plan_set_ledger_start(
            plan=self.plan, ledger_start_date=self.cleaned_data["ledger_start_date"], by=by
        )


class YearCloseForm(PlanBoundForm):
    year = forms.IntegerField(
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        localize=False,
        help_text="A year that is over. Its approved designations lapse.",
    )
    closed_on = forms.DateField(widget=DateInput, initial=today_initial, label="Date of the closing")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def submit(self, *, by):
        return services.plan_year_close(plan=self.plan, by=by, **self.cleaned_data)


class LapseForm(ServiceForm):
    lapsed_on = forms.DateField(widget=DateInput, initial=today_initial, label="Date of the lapse")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, designation: BoardDesignation, **kwargs):
        super().__init__(*args, **kwargs)
        self.designation = designation

    def submit(self, *, by):
        return services.designation_lapse(designation=self.designation, by=by, **self.cleaned_data)


class CancellationForm(ServiceForm):
    cancelled_on = forms.DateField(widget=DateInput, label="Cancellation date", initial=today_initial)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, issuance: Issuance, **kwargs):
        super().__init__(*args, **kwargs)
        self.issuance = issuance

    def submit(self, *, by):
        return services.issuance_cancel(issuance=self.issuance, by=by, **self.cleaned_data)


class PastCancellationForm(CancellationForm):
    """A cancellation made before the plan's ledger start date, entered from the company's records."""

    cancelled_on = forms.DateField(widget=DateInput, label="Cancellation date")
    source_reference = forms.CharField(max_length=300, label="Source document")

    def submit(self, *, by):
        return services.issuance_cancel(issuance=self.issuance, by=by, from_records=True, **self.cleaned_data)


class VoteForm(ServiceForm):
    decision = forms.ChoiceField(choices=VoteDecision.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, designation: BoardDesignation, **kwargs):
        super().__init__(*args, **kwargs)
        self.designation = designation

    def submit(self, *, by):
        return services.designation_vote(designation=self.designation, voter=by, **self.cleaned_data)


class ProposalVoteForm(ServiceForm):
    decision = forms.ChoiceField(choices=VoteDecision.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, proposal: PlanProposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal = proposal

    def submit(self, *, by):
        return services.plan_proposal_vote(proposal=self.proposal, voter=by, **self.cleaned_data)


class ConfirmationForm(ServiceForm):
    checked = forms.BooleanField(
        required=True,
        label="I have checked this record against the document it names",
        error_messages={"required": "Tick the box to say you checked the record against its source document."},
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, record, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record

    def submit(self, *, by):
        return services.past_record_confirm(record=self.record, by=by, comment=self.cleaned_data["comment"])
