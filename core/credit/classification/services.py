"""Manual classification: a staff member proposes a different class for a loan, with a reason and evidence; a
second person approves or rejects it.

A proposal may be stricter than the rules at any time; looser only down to what the rules give (the loan's rule
class, checked when proposed and again when approved). An approved class holds until another approved proposal
changes it, and the class that applies is always the stricter of it and the rules' (close of day keeps them).
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import sqlalchemy as sa

from ...db import utcnow
from ...domain import DomainError
from ...i18n import _
from ...loans.models import Loan
from ...uploads import document_type
from .engine import OUTSTANDING, days_past_due, outstanding_figures, standing
from .models import (
    CLASS_LABELS,
    PROPOSALS,
    RANK,
    ClassChange,
    ClassProposal,
    LoanRisk,
    ProposalStatus,
    RiskClass,
)
from .rules import rules_for

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_REASON = 1000


class ClassificationError(DomainError):
    """A proposal or decision refused (the field, a message to act on). Nothing changed."""


def loan_of(session, tenant_id: int, loan_id) -> Loan | None:
    """The tenant's loan by id (``None`` for another tenant's, a malformed or an unknown id)."""
    try:
        number = int(str(loan_id))
    except ValueError:
        return None
    if not 0 < number < 2**31:
        return None
    return session.scalars(sa.select(Loan).where(Loan.tenant_id == tenant_id, Loan.id == number)).first()


def last_closed_day(tenant) -> dt.date:
    """The day whose close the loans' standing reflects: the one before the business date."""
    return tenant.business_date - dt.timedelta(days=1)


def standing_of(session, tenant, loan: Loan, *, lock: bool = False) -> LoanRisk:
    """The loan's standing row, classified now (as of the last closed day) if close of day never did it."""
    query = sa.select(LoanRisk).where(LoanRisk.loan_id == loan.id, LoanRisk.tenant_id == tenant.id)
    risk = session.scalars(query.with_for_update() if lock else query).first()
    if risk is not None:
        return risk
    day = last_closed_day(tenant)
    figures = {loan_id: (oldest, left) for loan_id, oldest, left in outstanding_figures(session, tenant.id, day)}
    oldest, left = figures.get(loan.id, (None, 0))
    risk = LoanRisk(tenant_id=tenant.id, loan_id=loan.id, classified_on=day)
    for key, value in standing(rules_for(tenant), None, days_past_due(oldest, day), left, day).items():
        setattr(risk, key, value)
    session.add(risk)
    session.flush()
    return risk


def shown_standing(session, tenant, loan: Loan) -> LoanRisk | None:
    """What a loan's pages show: an outstanding loan's standing (classified now if never), else its last one."""
    if loan.status in OUTSTANDING:
        return standing_of(session, tenant, loan)
    return session.get(LoanRisk, loan.id)


def history(session, tenant_id: int, loan_id: int) -> list[ClassChange]:
    return list(
        session.scalars(
            sa.select(ClassChange)
            .where(ClassChange.tenant_id == tenant_id, ClassChange.loan_id == loan_id)
            .order_by(ClassChange.business_date, ClassChange.id)
        )
    )


def proposals_of(session, tenant_id: int, *, loan_id: int | None = None, status: str | None = None) -> list:
    query = sa.select(ClassProposal).where(ClassProposal.tenant_id == tenant_id)
    if loan_id is not None:
        query = query.where(ClassProposal.loan_id == loan_id)
    if status is not None:
        query = query.where(ClassProposal.status == status)
    return list(session.scalars(query.order_by(ClassProposal.id.desc())))


def _check_class(value, rule_class: str, field: str = "proposed_class") -> str:
    if not isinstance(value, str) or value not in RANK:
        raise ClassificationError(field, _("Choose one of the five classes."))
    if RANK[value] < RANK[rule_class]:
        raise ClassificationError(
            field,
            _(
                "The rules put this loan at least in ${cls}: a looser class is not allowed.",
                mapping={"cls": CLASS_LABELS[rule_class]},
            ),
        )
    return value


def _evidence(settings, tenant_id: int, upload) -> tuple[str, str, str] | None:
    """Keep an evidence file (a PDF, JPEG or PNG by its bytes): its key, name and type; ``None`` without one."""
    stream = getattr(upload, "file", None)
    if stream is None:
        return None
    data = stream.read(MAX_EVIDENCE_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ClassificationError("evidence", _("The file is larger than 10 MB."))
    content_type = document_type(data)
    if content_type is None:
        raise ClassificationError("evidence", _("Upload a JPEG, PNG or PDF file."))
    key = secrets.token_hex(20)
    folder = evidence_dir(settings) / str(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
    name = Path((getattr(upload, "filename", "") or "evidence").replace("\x00", "")).name[:200] or "evidence"
    return key, name, content_type


def evidence_dir(settings) -> Path:
    return settings.var_dir / "credit_documents" / "classification"


def evidence_path(settings, proposal: ClassProposal) -> Path:
    return evidence_dir(settings) / str(proposal.tenant_id) / str(proposal.evidence_key)


def propose(
    session, settings, tenant, loan: Loan, *, staff_id: int, by: str, proposed_class, reason, evidence=None
) -> ClassProposal:
    """Propose ``proposed_class`` for ``loan`` with a reason (and an evidence file): it waits for a second person."""
    if loan.status not in OUTSTANDING:
        raise ClassificationError("loan", _("Only an outstanding loan is classified."))
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ClassificationError("reason", _("Give the reason for the class you propose."))
    if len(reason) > MAX_REASON:
        raise ClassificationError("reason", _("Use at most ${n} characters.", mapping={"n": MAX_REASON}))
    risk = standing_of(session, tenant, loan, lock=True)
    proposed = _check_class(proposed_class, risk.rule_class)
    if proposed == risk.risk_class:
        raise ClassificationError("proposed_class", _("The loan is in this class already."))
    if proposals_of(session, tenant.id, loan_id=loan.id, status=ProposalStatus.PENDING.value):
        raise ClassificationError("loan", _("A proposal for this loan is waiting for a decision already."))
    kept = _evidence(settings, tenant.id, evidence)
    proposal = ClassProposal(
        tenant_id=tenant.id,
        loan_id=loan.id,
        proposed_class=proposed,
        class_then=risk.risk_class,
        reason=reason,
        proposed_by_id=staff_id,
        proposed_by=by[:120],
    )
    if kept is not None:
        proposal.evidence_key, proposal.evidence_name, proposal.evidence_type = kept
    session.add(proposal)
    session.flush()
    return proposal


def locked_proposal(session, tenant_id: int, proposal_id) -> ClassProposal | None:
    try:
        number = int(str(proposal_id))
    except ValueError:
        return None
    if not 0 < number < 2**31:
        return None
    return session.scalars(
        sa.select(ClassProposal)
        .where(ClassProposal.tenant_id == tenant_id, ClassProposal.id == number)
        .with_for_update()
    ).first()


def decide(
    session, tenant, proposal: ClassProposal, *, staff_id: int, by: str, approve: bool, note: str = ""
) -> ClassProposal:
    """Approve (the class applies from now) or reject a pending proposal; never the proposer's own."""
    if proposal.status != ProposalStatus.PENDING.value:
        raise ClassificationError("decision", _("This proposal has been decided already."))
    if proposal.proposed_by_id == staff_id:
        raise ClassificationError("decision", _("Another person decides on your own proposal."))
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > 300:
        raise ClassificationError("note", _("Use at most ${n} characters.", mapping={"n": 300}))
    if not approve and not note:
        raise ClassificationError("note", _("Say why the proposal is rejected."))
    loan = session.get(Loan, proposal.loan_id)
    if approve:
        if loan.status not in OUTSTANDING:
            raise ClassificationError("decision", _("The loan is no longer outstanding."))
        risk = standing_of(session, tenant, loan, lock=True)
        _check_class(proposal.proposed_class, risk.rule_class, "decision")
        before = risk.risk_class
        risk.manual_class = proposal.proposed_class if proposal.proposed_class != risk.rule_class else None
        rules = rules_for(tenant)
        risk.risk_class = proposal.proposed_class
        risk.provision_rate = str(rules.provision_percent[risk.risk_class])
        risk.provision = rules.provision(risk.risk_class, risk.outstanding_principal)
        if before != risk.risk_class:
            session.add(
                ClassChange(
                    tenant_id=tenant.id,
                    loan_id=loan.id,
                    business_date=tenant.business_date,
                    from_class=before,
                    to_class=risk.risk_class,
                    source="manual",
                    days_past_due=risk.days_past_due,
                    proposal_id=proposal.id,
                    decided_by=by[:120],
                )
            )
    PROPOSALS.move(proposal, ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED)
    proposal.decided_by_id, proposal.decided_by = staff_id, by[:120]
    proposal.decision_note, proposal.decided_at = note, utcnow()
    session.flush()
    return proposal


def portfolio(session, tenant_id: int) -> list[dict]:
    """Per class: how many outstanding loans, their principal left and the provision they need (all five)."""
    rows = session.execute(
        sa.select(
            LoanRisk.risk_class,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(LoanRisk.outstanding_principal), 0),
            sa.func.coalesce(sa.func.sum(LoanRisk.provision), 0),
        )
        .join(Loan, Loan.id == LoanRisk.loan_id)
        .where(LoanRisk.tenant_id == tenant_id, Loan.status.in_(OUTSTANDING))
        .group_by(LoanRisk.risk_class)
    ).all()
    found = {cls: (count, int(left), int(provision)) for cls, count, left, provision in rows}
    return [
        {
            "class": c.value,
            "loans": found.get(c.value, (0, 0, 0))[0],
            "outstanding": found.get(c.value, (0, 0, 0))[1],
            "provision": found.get(c.value, (0, 0, 0))[2],
        }
        for c in RiskClass
    ]


def migration_matrix(session, tenant_id: int, month_from: dt.date, month_to: dt.date) -> dict:
    """How many loans moved from each class at the end of ``month_from`` to each class at the end of ``month_to``
    (both month-end dates with snapshots): ``{from: {to: count}}`` over all five classes."""
    from sqlalchemy.orm import aliased

    from .models import ClassSnapshot

    a, b = aliased(ClassSnapshot), aliased(ClassSnapshot)
    rows = session.execute(
        sa.select(a.risk_class, b.risk_class, sa.func.count())
        .join(b, sa.and_(b.loan_id == a.loan_id, b.month_end == month_to))
        .where(a.tenant_id == tenant_id, a.month_end == month_from)
        .group_by(a.risk_class, b.risk_class)
    ).all()
    matrix = {f.value: {t.value: 0 for t in RiskClass} for f in RiskClass}
    for before, after, count in rows:
        matrix[before][after] = count
    return matrix


WRITE_OFF_DEFAULT = RiskClass.LOSS.value


def check_write_off(session, tenant, loan: Loan) -> None:
    """A defaulted loan is written off only once its class is at least the tenant's ``write_off_min_class``
    (loss unless the tenant says otherwise): asked when the write-off is requested and again when approved."""
    mildest = (tenant.lending or {}).get("write_off_min_class", WRITE_OFF_DEFAULT)
    risk = standing_of(session, tenant, loan)
    if RANK[risk.risk_class] < RANK[mildest]:
        raise ClassificationError(
            "decision",
            _(
                "A loan is written off once it is classified ${needed}; this one is ${cls}.",
                mapping={"needed": CLASS_LABELS[mildest], "cls": CLASS_LABELS[risk.risk_class]},
            ),
        )
