"""Every write of ledger state. The one place the plan's rules are enforced.

Each service runs in one transaction and first locks the Plan row (`select_for_update`; on SQLite the IMMEDIATE
transaction takes the database write lock), then reads fresh state, checks, writes, and keeps the counters on
Plan (authorized_shares, issued_shares, committed_shares) and BoardDesignation (issued_shares) in step. Locks are
taken in one order: Plan, then the rows of that plan. A refusal raises a subclass of
plan_admin.exceptions.PlanRuleViolation before anything is written.

Arguments are keyword-only. `by` is the user doing the work; it is recorded on the row and in the history.

- plan.py          plan_create, plan_update_details, plan_set_effective_date, reserve_change_propose,
                   termination_propose, plan_proposal_withdraw, plan_proposal_vote
- designations.py  designation_propose, designation_withdraw, designation_vote, designation_lapse, plan_year_close
- issuances.py     issuance_record, issuance_record_many, issuance_cancel
- participants.py  participant_create, participant_update
- past_records.py  plan_set_ledger_start, past_designation_record, past_reserve_change_record, past_record_confirm
- resolutions.py   resolution_prepare, resolution_sign, resolution_decline, resolution_withdraw (written consents and
                   meetings' records, decided through designation_decide / plan_proposal_decide like votes)
- decisions.py, pool.py, _common.py: what they share (who may vote, the pool's counters and checks, cleaning)
"""

from ._common import MAX_SHARES, lock_plan
from .designations import (
    designation_lapse,
    designation_propose,
    designation_vote,
    designation_withdraw,
    plan_year_close,
)
from .issuances import BULK_BATCH_SIZE, issuance_cancel, issuance_record, issuance_record_many
from .participants import participant_create, participant_update
from .past_records import (
    past_designation_record,
    past_record_confirm,
    past_reserve_change_record,
    plan_set_ledger_start,
)
from .plan import (
    plan_create,
    plan_proposal_vote,
    plan_proposal_withdraw,
    plan_set_effective_date,
    plan_update_details,
    reserve_change_propose,
    termination_propose,
)
from .resolutions import (
    ResolutionRefused,
    resolution_decline,
    resolution_prepare,
    resolution_sign,
    resolution_withdraw,
)

__all__ = [
    "BULK_BATCH_SIZE",
    "MAX_SHARES",
    "ResolutionRefused",
    "designation_lapse",
    "designation_propose",
    "designation_vote",
    "designation_withdraw",
    "issuance_cancel",
    "issuance_record",
    "issuance_record_many",
    "lock_plan",
    "participant_create",
    "participant_update",
    "past_designation_record",
    "past_record_confirm",
    "past_reserve_change_record",
    "plan_create",
    "plan_proposal_vote",
    "plan_proposal_withdraw",
    "plan_set_effective_date",
    "plan_set_ledger_start",
    "plan_update_details",
    "plan_year_close",
    "reserve_change_propose",
    "resolution_decline",
    "resolution_prepare",
    "resolution_sign",
    "resolution_withdraw",
    "termination_propose",
]
