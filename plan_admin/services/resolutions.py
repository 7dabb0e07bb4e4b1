"""Resolutions of the board (issue 12): gather open proposals, sign or decline in the browser, take effect.

A resolution gathers open proposals of one plan (designations, reserve changes, a termination) into a written
consent in lieu of a meeting, or into the record of a meeting's resolutions (its date, the directors present). Its
text is rendered from the ledger rows by an adaptable template into the document for signature, stored with its
SHA-256. While it is out for signature its proposals are frozen: votes and withdrawals are refused by the services
(decisions.refuse_if_out_for_signature).

The directors named are fixed when it goes out. A director is recused from the whole resolution, by name and with
the reason, when they proposed one of its proposals or are designated by one (the rules of votes, DESIGN rule 5);
the others are entitled to sign. It takes effect when the required signatures are in: every entitled director for
a written consent; the plan's required approvals (decisions.tally) for a meeting. Then each proposal is decided
through the same code as votes (designations.designation_decide, plan.plan_proposal_decide, with their pool and
term refusals), dated the day of the last signature (a written consent) or of the meeting, with the resolution as
its reference; if any would be refused, the last signature is refused with that message and nothing is written.
The signed document (the document for signature, byte for byte, plus a signature page and the deployment's seal)
is stored with its hash.

Locks: the Plan (lock_plan), then the resolution row, then the proposals. Raises PlanRuleViolation subclasses.
"""

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .. import formatting as fmt
from .. import roles
from ..documents import pdf, seal, storage
from ..exceptions import InvalidInput, InvalidTransition, PlanRuleViolation, VoteRefused
from ..models import (
    BoardDesignation,
    DesignationVote,
    Plan,
    PlanProposal,
    PlanProposalVote,
    PlanYearClosing,
    Resolution,
    ResolutionDecline,
    ResolutionDocument,
    ResolutionItem,
    ResolutionSignatory,
    ResolutionSignature,
    ResolutionWithdrawal,
    VoteDecision,
)
from . import _common, decisions, pool
from .designations import designation_decide
from .plan import plan_proposal_decide

Kind = Resolution.Kind
Status = Resolution.Status


class ResolutionRefused(PlanRuleViolation):
    """The last signature of a resolution whose proposals cannot all be decided: nothing was signed or decided."""

    default_code = "resolution_refused"


def person(user) -> str:
    return (user.get_full_name() or user.get_username()).strip()


def chain_link(
    *,
    previous: str,
    document_sha256: str,
    signer_id: int,
    signer_name: str,
    signed_at: datetime.datetime,
    client_address: str | None,
) -> str:
    """One link of a resolution's signature chain: SHA-256 over the previous link and this signature's facts."""
    text = "\n".join(
        [previous, document_sha256, str(signer_id), signer_name, signed_at.isoformat(), client_address or ""]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def chain_is_intact(resolution: Resolution) -> bool:
    """Whether every recorded signature's link follows from the one before (the first from the document's hash)."""
    document = resolution.documents.get(kind=ResolutionDocument.Kind.FOR_SIGNATURE)
    previous = document.sha256
    for signature in resolution.signatures.order_by("signed_at", "pk"):
        link = chain_link(
            previous=previous,
            document_sha256=signature.document_sha256,
            signer_id=signature.signer_id,
            signer_name=signature.signer_name,
            signed_at=signature.signed_at,
            client_address=signature.client_address,
        )
        if signature.previous_sha256 != previous or signature.chain_sha256 != link:
            return False
        previous = link
    return True


# --- gathering ----------------------------------------------------------------------------------------------------


def _order(item_subject) -> int:
    """Reserve increases first, then designations, then decreases, then a termination: the order the resolution
    states them and decides them, so that an increase in the same resolution makes room for its designations."""
    if isinstance(item_subject, BoardDesignation):
        return 1
    if item_subject.kind == PlanProposal.Kind.TERMINATION:
        return 3
    return 0 if item_subject.shares > 0 else 2


def _board_members():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.BOARD)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


def _recusals(director, subjects) -> list[str]:
    reasons = []
    for subject in subjects:
        if subject.proposed_by_id == director.pk:
            reasons.append(f"proposed {_describe(subject)}")
        if isinstance(subject, BoardDesignation) and subject.designated_user_id == director.pk:
            reasons.append(f"is designated by {_describe(subject)}")
    return reasons


def _describe(subject) -> str:
    if isinstance(subject, BoardDesignation):
        return f"the {subject.year} designation of {subject.participant}"
    return f"the proposal to {str(subject)[0].lower()}{str(subject)[1:]}"


def _clean_subjects(plan: Plan, designations, proposals) -> list:
    """The proposals, locked, each open, of this plan, in no open resolution, without votes. Plan locked."""
    ids = [getattr(d, "pk", d) for d in designations]
    proposal_ids = [getattr(p, "pk", p) for p in proposals]
    if not ids and not proposal_ids:
        raise InvalidInput("Choose at least one proposal for the board to decide.", field="designations")
    if len(set(ids)) != len(ids) or len(set(proposal_ids)) != len(proposal_ids):
        raise InvalidInput("A proposal can be put to the board only once in a resolution.", field="designations")
    locked = list(BoardDesignation.objects.select_for_update().select_related("participant").filter(pk__in=ids))
    locked += list(PlanProposal.objects.select_for_update().filter(pk__in=proposal_ids))
    if len(locked) != len(ids) + len(proposal_ids):
        raise InvalidInput("One of the chosen proposals does not exist.", field="designations")
    voted = set(DesignationVote.objects.filter(designation_id__in=ids).values_list("designation_id", flat=True))
    voted_on = set(PlanProposalVote.objects.filter(proposal_id__in=proposal_ids).values_list("proposal_id", flat=True))
    closed = set(PlanYearClosing.objects.filter(plan=plan).values_list("year", flat=True))
    for subject in locked:
        what = _describe(subject)
        what = what[0].upper() + what[1:]
        is_designation = isinstance(subject, BoardDesignation)
        if subject.plan_id != plan.pk:
            raise InvalidInput(
                f"{what} belongs to another plan: a resolution decides the proposals of one plan.", field="designations"
            )
        if subject.status != "proposed":
            raise InvalidTransition(
                f"{what} is {subject.get_status_display().lower()}: only open proposals can be put to the board.",
                field="designations",
            )
        item = decisions.open_resolution_item(
            designation_id=subject.pk if is_designation else None, proposal_id=None if is_designation else subject.pk
        )
        if item is not None:
            raise InvalidTransition(
                f"{what} is already out for signature in {item.resolution.reference}.", field="designations"
            )
        if subject.pk in (voted if is_designation else voted_on):
            raise InvalidTransition(
                f"{what} already has votes of board members: it is being decided by votes.", field="designations"
            )
        if is_designation and subject.year in closed:
            raise InvalidTransition(
                f"The plan's year {subject.year} is closed: {what[0].lower()}{what[1:]} cannot be approved.",
                field="designations",
            )
    terminations = [s for s in locked if isinstance(s, PlanProposal) and s.kind == PlanProposal.Kind.TERMINATION]
    if len(terminations) > 1:
        raise InvalidInput("A resolution terminates the plan once.", field="proposals")
    return sorted(locked, key=lambda s: (_order(s), getattr(s, "year", 0), str(getattr(s, "participant", "")), s.pk))


@dataclass
class PoolEffect:
    authorized: int
    issued: int
    committed: int
    designated: int = 0
    reserve_change: int = 0
    lines: list = field(default_factory=list)

    @property
    def available(self) -> int:
        return self.authorized - self.issued - self.committed

    @property
    def authorized_after(self) -> int:
        return self.authorized + self.reserve_change

    @property
    def committed_after(self) -> int:
        return self.committed + self.designated

    @property
    def available_after(self) -> int:
        return self.authorized_after - self.issued - self.committed_after

    @property
    def over_commits(self) -> bool:
        return self.available_after < 0


def pool_effect(plan: Plan, subjects) -> PoolEffect:
    """What deciding every proposal of a resolution would do to the plan's pool (commitments of every year)."""
    effect = PoolEffect(authorized=plan.authorized_shares, issued=plan.issued_shares, committed=plan.committed_shares)
    for subject in subjects:
        if isinstance(subject, BoardDesignation):
            effect.designated += subject.shares
        elif subject.kind == PlanProposal.Kind.RESERVE_CHANGE:
            effect.reserve_change += subject.shares
    return effect


def document_context(resolution: Resolution, *, plan: Plan, subjects, signatories, meeting_date=None) -> dict:
    """What the resolution's template is given: every figure comes from the ledger rows."""
    designations = [s for s in subjects if isinstance(s, BoardDesignation)]
    reserve_changes = [
        s for s in subjects if isinstance(s, PlanProposal) and s.kind == PlanProposal.Kind.RESERVE_CHANGE
    ]
    termination = next(
        (s for s in subjects if isinstance(s, PlanProposal) and s.kind == PlanProposal.Kind.TERMINATION), None
    )
    for designation in designations:
        designation.value_at_price = (
            designation.price_per_share * designation.shares if designation.is_debt_settlement else None
        )
    return {
        "resolution": resolution,
        "reference": resolution.reference,
        "is_consent": resolution.kind == Kind.WRITTEN_CONSENT,
        "meeting_date": meeting_date,
        "plan": plan,
        "designations": designations,
        "debt_settlements": [d for d in designations if d.is_debt_settlement],
        "reserve_changes": reserve_changes,
        "termination": termination,
        "pool": pool_effect(plan, subjects),
        "entitled": [s for s in signatories if s.entitled],
        "recused": [s for s in signatories if not s.entitled],
        "required": resolution.required_signatures,
        "prepared_by": person(resolution.prepared_by),
        "prepared_on": timezone.localdate(),
    }


def _store(resolution: Resolution, kind: str, data: bytes, *, written: list, chain: str = "") -> ResolutionDocument:
    digest = storage.sha256(data)
    name = storage.write(f"resolutions/{resolution.pk}/{kind}-{digest[:16]}.pdf", data)
    written.append(name)
    document = ResolutionDocument(
        resolution=resolution, kind=kind, file_name=name, sha256=digest, size=len(data), chain_sha256=chain
    )
    document.save()
    return document


def _clean_kind(kind, *, plan: Plan, meeting_date, directors_present):
    if kind not in Kind.values:
        raise InvalidInput("Choose a written consent or the record of a meeting.", field="kind")
    if kind == Kind.WRITTEN_CONSENT:
        if meeting_date is not None or directors_present:
            raise InvalidInput(
                "A written consent is made without a meeting: leave the meeting's date and the "
                "directors present empty.",
                field="meeting_date",
            )
        return None, list(_board_members())
    if meeting_date is None:
        raise InvalidInput("Enter the date of the meeting.", field="meeting_date")
    meeting_date = _common.date(meeting_date, field="meeting_date", label="date of the meeting")
    _common.not_in_future(meeting_date, field="meeting_date", what="A meeting")
    _common.check_record_date(plan, meeting_date, from_records=False, field="meeting_date", what="A meeting")
    present = list(directors_present)
    if not present:
        raise InvalidInput("Choose the directors present at the meeting.", field="directors_present")
    for director in present:
        if not roles.is_board_member(director):
            raise InvalidInput(f"{person(director)} is not a member of the board.", field="directors_present")
    return meeting_date, sorted(set(present), key=lambda user: (user.last_name, user.first_name, user.username))


def _default_title(kind: str, plan: Plan, meeting_date) -> str:
    if kind == Kind.WRITTEN_CONSENT:
        return f"Written Consent of the Board of Directors of {plan.company_name} in Lieu of a Meeting"
    return (
        f"Resolutions Adopted by the Board of Directors of {plan.company_name} at a Meeting Held on "
        f"{fmt.day(meeting_date)}"
    )


def resolution_prepare(
    *,
    plan: Plan,
    kind: str,
    designations=(),
    proposals=(),
    meeting_date: datetime.date | None = None,
    directors_present=(),
    title: str = "",
    by: AbstractBaseUser,
) -> Resolution:
    """Gather open proposals of `plan` into a resolution and send it out for signature. Locks the Plan, then the
    proposals.

    `kind` is a written consent (every active board member is named; those not recused must all sign) or the
    record of a meeting (`meeting_date`, not in the future, on or after the ledger start date, and the
    `directors_present`; the plan's required approvals must sign). Renders the document for signature from the
    ledger rows with the resolution template and stores it with its SHA-256; each entitled director is emailed a
    link once the transaction commits. Raises InvalidInput (nothing chosen, another plan's proposal, a meeting
    without date or directors, characters the document's font cannot print, too few directors entitled to sign),
    InvalidTransition (a proposal not open, already out for signature, with votes, or of a closed year).
    """
    written: list[str] = []
    try:
        return _prepare(
            plan=plan,
            kind=kind,
            designations=designations,
            proposals=proposals,
            meeting_date=meeting_date,
            directors_present=directors_present,
            title=title,
            by=by,
            written=written,
        )
    except BaseException:
        for name in written:
            storage.delete_quietly(name)
        raise


@transaction.atomic
def _prepare(*, plan, kind, designations, proposals, meeting_date, directors_present, title, by, written):
    locked = _common.lock_plan(plan.pk)
    meeting_date, directors = _clean_kind(
        kind, plan=locked, meeting_date=meeting_date, directors_present=directors_present
    )
    subjects = _clean_subjects(locked, designations, proposals)
    if meeting_date is not None:
        for subject in subjects:
            if timezone.localdate(subject.proposed_at) > meeting_date:
                raise InvalidInput(
                    f"{_describe(subject)[0].upper()}{_describe(subject)[1:]} was proposed after the "
                    f"meeting of {fmt.day(meeting_date)}: the meeting cannot have decided it.",
                    field="meeting_date",
                )
    title = _common.text(title, field="title", label="title", max_length=300) or _default_title(
        kind, locked, meeting_date
    )
    seats = []
    for director in directors:
        reasons = _recusals(director, subjects)
        recusal = f"{person(director)} {'; '.join(reasons)}, and so does not sign this resolution." if reasons else ""
        seats.append(
            ResolutionSignatory(
                director=director, director_name=person(director), entitled=not reasons, recusal=recusal
            )
        )
    entitled = sum(1 for seat in seats if seat.entitled)
    required = entitled if kind == Kind.WRITTEN_CONSENT else locked.required_approvals
    if entitled < locked.required_approvals or entitled == 0:
        who = "directors" if kind == Kind.WRITTEN_CONSENT else "directors present"
        raise InvalidInput(
            f"Only {entitled:,} of the {who} may sign this resolution (the others proposed one of its proposals or "
            f"are designated by one), and the plan requires {locked.required_approvals:,} approval"
            f"{'s' if locked.required_approvals != 1 else ''}: put the proposals that recuse them to the board "
            "separately, or to more directors.",
            field="designations",
        )
    resolution = Resolution(
        plan=locked, kind=kind, title=title, meeting_date=meeting_date, required_signatures=required, prepared_by=by
    )
    resolution.save()
    for position, subject in enumerate(subjects, start=1):
        is_designation = isinstance(subject, BoardDesignation)
        ResolutionItem(
            resolution=resolution,
            position=position,
            designation=subject if is_designation else None,
            proposal=None if is_designation else subject,
        ).save()
    for seat in seats:
        seat.resolution = resolution
        seat.save()
    context = document_context(resolution, plan=locked, subjects=subjects, signatories=seats, meeting_date=meeting_date)
    markup = render_to_string(settings.RESOLUTION_DOCUMENT_TEMPLATE, context)
    data = pdf.render(
        markup, title=title, footer=f"{resolution.reference} · {locked.company_name}", created=timezone.now()
    )
    _store(resolution, ResolutionDocument.Kind.FOR_SIGNATURE, data, written=written)
    from ..notifications import resolutions as notices

    transaction.on_commit(lambda: notices.send_invitations(resolution.pk))
    return resolution


# --- signing, declining, withdrawing ------------------------------------------------------------------------------


def _lock(resolution: Resolution) -> tuple[Plan, Resolution]:
    plan = _common.lock_plan(resolution.plan_id)
    locked = Resolution.objects.select_for_update().select_related("prepared_by").get(pk=resolution.pk)
    if locked.status != Status.PENDING:
        raise InvalidTransition(
            f"{locked.reference} is {locked.get_status_display().lower()}: it is no longer out for signature."
        )
    return plan, locked


def _clean_address(value) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def _refuse_unless_entitled(resolution: Resolution, director, *, doing: str) -> ResolutionSignatory:
    if not roles.is_board_member(director):
        raise VoteRefused("Only members of the board sign the board's resolutions.")
    seat = ResolutionSignatory.objects.filter(resolution=resolution, director=director).first()
    if seat is None:
        raise VoteRefused(
            f"You are not named in {resolution.reference}"
            + (" (you were not present at the meeting)." if resolution.kind == Kind.MEETING else ".")
        )
    if not seat.entitled:
        raise VoteRefused(f"You do not {doing} {resolution.reference}: {seat.recusal}")
    signed = ResolutionSignature.objects.filter(resolution=resolution, signer=director).first()
    if signed is not None:
        raise VoteRefused(f"You signed {resolution.reference} on {fmt.day(timezone.localdate(signed.signed_at))}.")
    if ResolutionDecline.objects.filter(resolution=resolution, director=director).exists():
        raise VoteRefused(f"You declined to sign {resolution.reference}.")
    return seat


def _items(resolution: Resolution) -> list:
    items = (
        ResolutionItem.objects.filter(resolution=resolution)
        .select_related("designation__participant", "proposal")
        .order_by("position")
    )
    subjects = []
    for item in items:
        if item.designation_id:
            subjects.append(
                BoardDesignation.objects.select_for_update().select_related("participant").get(pk=item.designation_id)
            )
        else:
            subjects.append(PlanProposal.objects.select_for_update().get(pk=item.proposal_id))
    return subjects


def resolution_sign(
    *,
    resolution: Resolution,
    signer: AbstractBaseUser,
    document_sha256: str,
    client_address: str | None = None,
    second_factor: bool = False,
) -> ResolutionSignature:
    """Record one entitled director's signature of the document for signature. Locks the Plan, the resolution,
    then its proposals.

    The caller has checked the signer's password (and second factor, when enrolled). `document_sha256` is the
    hash of the document the page showed; it must be the stored document's, whose bytes are read and hashed again.
    When this is the last signature required, the resolution takes effect in the same transaction (see the module
    docstring) and the signed, sealed document is stored. Raises VoteRefused (not a board member, not named,
    recused, already signed or declined), InvalidTransition (no longer out for signature), InvalidInput (the
    document changed), ResolutionRefused (a proposal cannot be decided: the pool, the plan's term, a closed year;
    nothing is then written, the signature included), SealUnavailable.
    """
    written: list[str] = []
    try:
        return _sign(
            resolution=resolution,
            signer=signer,
            document_sha256=document_sha256,
            client_address=client_address,
            second_factor=second_factor,
            written=written,
        )
    except BaseException:
        for name in written:
            storage.delete_quietly(name)
        raise


@transaction.atomic
def _sign(*, resolution, signer, document_sha256, client_address, second_factor, written):
    plan, locked = _lock(resolution)
    seat = _refuse_unless_entitled(locked, signer, doing="sign")
    document = ResolutionDocument.objects.get(resolution=locked, kind=ResolutionDocument.Kind.FOR_SIGNATURE)
    if document_sha256 != document.sha256:
        raise InvalidInput(
            f"The document you read is not the one out for signature (SHA-256 {document.sha256}): "
            "reload the page, read it again, and sign.",
            field="document_sha256",
        )
    signed_bytes = storage.read(document.file_name, expected_sha256=document.sha256)
    subjects = _items(locked)
    earlier = list(ResolutionSignature.objects.filter(resolution=locked).order_by("signed_at", "pk"))
    for subject in subjects:  # the refusals of a vote, for each proposal the resolution decides
        is_designation = isinstance(subject, BoardDesignation)
        decisions.refuse_unless_may_vote(
            voter=signer,
            noun="designation" if is_designation else "proposal",
            status_label=None if subject.status == "proposed" else subject.get_status_display().lower(),
            proposed_by_id=subject.proposed_by_id,
            designated_user_id=subject.designated_user_id if is_designation else None,
            voter_ids={signature.signer_id for signature in earlier},
        )
    now = timezone.now()
    address = _clean_address(client_address)
    previous = earlier[-1].chain_sha256 if earlier else document.sha256
    signature = ResolutionSignature(
        resolution=locked,
        signer=signer,
        signer_name=seat.director_name,
        signed_at=now,
        client_address=address,
        document_sha256=storage.sha256(signed_bytes),
        second_factor=bool(second_factor),
        previous_sha256=previous,
        chain_sha256=chain_link(
            previous=previous,
            document_sha256=document.sha256,
            signer_id=signer.pk,
            signer_name=seat.director_name,
            signed_at=now,
            client_address=address,
        ),
    )
    signature.save()
    signatures = [*earlier, signature]
    if locked.kind == Kind.MEETING:
        done = (
            decisions.tally(
                plan=plan, decisions_so_far=[VoteDecision.APPROVE] * len(earlier), decision=VoteDecision.APPROVE
            ).decided
            is not None
        )
    else:
        done = len(signatures) >= locked.required_signatures
    if done:
        _take_effect(plan, locked, subjects, signatures, signed_bytes=signed_bytes, by=signer, written=written)
    return signature


def _take_effect(
    plan: Plan, resolution: Resolution, subjects, signatures, *, signed_bytes: bytes, by, written: list
) -> None:
    """Decide every proposal through the services' own decision code, then store the signed, sealed document."""
    decided_on = resolution.meeting_date or _common.today()
    effect = pool_effect(plan, subjects)
    if effect.designated and effect.over_commits:  # said for the resolution as a whole, in the pool's figures
        after = (
            f" ({fmt.shares(effect.authorized_after)} after its change to the reserve)" if effect.reserve_change else ""
        )
        remaining = max(effect.authorized_after - effect.issued - effect.committed, 0)
        raise ResolutionRefused(
            f"{resolution.reference} cannot take effect, so your signature was not recorded and nothing was "
            f"decided: its designations of {fmt.shares(effect.designated)} shares together would over-commit the "
            f"plan: of {fmt.shares(effect.authorized)} authorized shares{after}, {fmt.shares(effect.issued)} are "
            f"issued and {fmt.shares(effect.committed)} are committed to approved designations "
            f"({pool.commitments_in_words(plan)}), so {fmt.shares(remaining)} remain. Staff can withdraw the "
            "resolution and put fewer proposals to the board, or the board can first increase the reserve.",
            field="designations",
        )
    reference = f"{resolution.reference}: {resolution.get_kind_display().lower()}"
    if resolution.kind == Kind.MEETING:
        reference += f" of {fmt.day(resolution.meeting_date)}"
    try:
        for subject in subjects:
            fields = decisions.decided_by_resolution(reference=reference, decided_on=decided_on)
            if isinstance(subject, BoardDesignation):
                designation_decide(plan, subject, decision=VoteDecision.APPROVE, fields=fields, by=by)
            else:
                plan_proposal_decide(plan, subject, decision=VoteDecision.APPROVE, fields=fields, by=by)
    except ResolutionRefused:
        raise
    except PlanRuleViolation as refusal:
        raise ResolutionRefused(
            f"{resolution.reference} cannot take effect, so your signature was not recorded and nothing was "
            f"decided: {' '.join(refusal.messages)} Staff can withdraw the resolution and put fewer proposals to "
            "the board, or the board can first increase the reserve.",
            field=refusal.field,
        ) from refusal
    resolution.status = Status.EFFECTIVE
    resolution.effective_on = decided_on
    resolution.closed_at = timezone.now()
    resolution.save(update_fields=["status", "effective_on", "closed_at"])
    context = {
        "resolution": resolution,
        "plan": plan,
        "signatures": signatures,
        "subjects": subjects,
        "document": ResolutionDocument.objects.get(resolution=resolution, kind=ResolutionDocument.Kind.FOR_SIGNATURE),
        "chain_head": signatures[-1].chain_sha256,
        "decided_on": decided_on,
        "reference": reference,
        "recused": list(resolution.signatories.filter(entitled=False)),
        "declines": list(resolution.declines.all()),
        "time_zone": settings.TIME_ZONE,
    }
    page = pdf.render(
        render_to_string(settings.RESOLUTION_SIGNATURE_PAGE_TEMPLATE, context),
        title=f"{resolution.reference}: signatures",
        footer=f"{resolution.reference} · signatures",
        created=resolution.closed_at,
    )
    with_signatures = pdf.append_pages(signed_bytes, page)
    sealed = seal.seal(
        with_signatures, reason=f"{resolution.reference} of {plan.company_name}, in effect {fmt.day(decided_on)}"
    )
    _store(resolution, ResolutionDocument.Kind.SIGNED, sealed, written=written, chain=signatures[-1].chain_sha256)
    from ..notifications import resolutions as notices

    transaction.on_commit(lambda: notices.notify_staff(resolution.pk, "effective"))


@transaction.atomic
def resolution_decline(
    *, resolution: Resolution, director: AbstractBaseUser, reason: str, client_address: str | None = None
) -> ResolutionDecline:
    """Record an entitled director's refusal to sign, with the reason. Locks the Plan, then the resolution.

    A written consent needs every entitled director, so one decline declines it; a meeting's record is declined
    when too few directors are left to reach the plan's required approvals. A declined resolution decides nothing:
    its proposals are open again, and staff are told. Raises VoteRefused, InvalidTransition, InvalidInput (no
    reason).
    """
    _plan, locked = _lock(resolution)
    reason = _common.text(reason, field="reason", label="reason for declining", required=True, max_length=5000)
    _refuse_unless_entitled(locked, director, doing="sign or decline")
    decline = ResolutionDecline(
        resolution=locked, director=director, reason=reason, client_address=_clean_address(client_address)
    )
    decline.save()
    entitled = locked.signatories.filter(entitled=True).count()
    declined = locked.declines.count()
    if entitled - declined < locked.required_signatures:
        locked.status = Status.DECLINED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        from ..notifications import resolutions as notices

        transaction.on_commit(lambda: notices.notify_staff(locked.pk, "declined"))
    resolution.status = locked.status
    return decline


@transaction.atomic
def resolution_withdraw(*, resolution: Resolution, reason: str, by: AbstractBaseUser) -> ResolutionWithdrawal:
    """Withdraw a resolution out for signature: a recorded act (who, when, why). Its proposals are open again (to
    be withdrawn, voted on, or put in another resolution); signatures already given stay on record. Locks the Plan,
    then the resolution. Raises InvalidTransition (no longer out for signature), InvalidInput (no reason)."""
    _plan, locked = _lock(resolution)
    reason = _common.text(reason, field="reason", label="reason for withdrawing", required=True, max_length=5000)
    withdrawal = ResolutionWithdrawal(resolution=locked, reason=reason, withdrawn_by=by)
    withdrawal.save()
    locked.status = Status.WITHDRAWN
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    resolution.status = locked.status
    return withdrawal
