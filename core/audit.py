"""The audit log: every staff and operator action — and a member's own security actions (a password
reset or change) — append-only, searchable in the back office.

``record(request, action, obj, before, after)`` adds a row in the request's
transaction, so an action that fails (and is rolled back) leaves no claim that
it happened. Rows are never updated or deleted by the application.
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from .accounts.models import AuditEvent
from .i18n import LOCALE_NAMES, _, locale_name


def actor_of(request) -> str:
    identity = getattr(request, "identity", None)
    if identity is None:
        return "anonymous"
    return f"{identity.kind}:{identity.principal_id}:{identity.display_name}"


def member_actor(member) -> str:
    """How a member acting on their own account is named (``member:<id>:<name>``), signed in or not yet."""
    return f"member:{member.id}:{member.display_name}"


def record(
    request,
    action: str,
    object_type: str = "",
    object_id="",
    before: dict | None = None,
    after: dict | None = None,
    *,
    actor: str | None = None,
    tenant_id: int | None = None,
) -> AuditEvent:
    tenant = getattr(request, "tenant", None)
    event = AuditEvent(
        tenant_id=tenant_id if tenant_id is not None else (tenant.id if tenant is not None else None),
        actor=actor or actor_of(request),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        address=(request.client_addr or "")[:64],
    )
    request.dbsession.add(event)
    return event


def record_cli(
    session,
    action: str,
    object_type: str = "",
    object_id="",
    before=None,
    after=None,
    *,
    tenant_id: int | None = None,
    actor: str = "cli",
) -> AuditEvent:
    """An action taken from the ``lendstack`` command (an operator at the console)."""
    event = AuditEvent(
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        address="console",
    )
    session.add(event)
    return event


def operator_actions(session, *, tenant_id: int | None = None, page: int = 1, per_page: int = 50):
    """What operators did (signing in, every console action), newest first; ``tenant_id``: on one tenant only."""
    query = sa.select(AuditEvent).where(AuditEvent.actor.like("operator:%"))
    if tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == tenant_id)
    rows = session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(per_page + 1).offset((max(page, 1) - 1) * per_page)
    ).all()
    return rows[:per_page], len(rows) > per_page


def search(session, tenant_id: int | None, *, text: str = "", page: int = 1, per_page: int = 50):
    """Events newest first, filtered by tenant and by a text in actor, action or object."""
    query = sa.select(AuditEvent)
    if tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == tenant_id)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(
            sa.or_(
                AuditEvent.actor.ilike(like),
                AuditEvent.action.ilike(like),
                AuditEvent.object_type.ilike(like),
                AuditEvent.object_id.ilike(like),
            )
        )
    rows = session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(per_page + 1).offset((max(page, 1) - 1) * per_page)
    ).all()
    return rows[:per_page], len(rows) > per_page


# -- reading the log: a sentence per action ------------------------------------------------------------------

ACTOR_KINDS = {
    "staff": _("Staff"),
    "member": _("Member"),
    "operator": _("Operator"),
    "cli": _("Console"),
    "system": _("The platform"),
    "close-of-day": _("Close of day"),
    "anonymous": _("Visitor"),
}
"""Who can act, by the first part of an actor (``staff:3:王經理``); the ``actor_kind`` label table."""

SENTENCES = {
    "sign_in": _("${who} signed in"),
    "sign_out": _("${who} signed out"),
    "totp_enrolled": _("${who} set up two-factor sign-in"),
    "recharge.approve": _("${who} confirmed ${whose}recharge ${object}${amount}"),
    "recharge.reject": _("${who} rejected ${whose}recharge ${object}${amount}"),
    "recharge.query": _("${who} asked the gateway about ${whose}recharge ${object}${amount}"),
    "withdrawal.approve": _("${who} approved ${whose}withdrawal ${object}${amount}"),
    "withdrawal.reject": _("${who} rejected ${whose}withdrawal ${object}${amount}"),
    "withdrawal.paid": _("${who} marked ${whose}withdrawal ${object}${amount} paid"),
    "withdrawal.failed": _("${who} marked ${whose}withdrawal ${object}${amount} failed"),
    "adjustment.request": _("${who} asked to adjust a member's balance${amount}"),
    "adjustment.approve": _("${who} approved balance adjustment ${object}${amount}"),
    "adjustment.reject": _("${who} rejected balance adjustment ${object}${amount}"),
    "adjustment.apply": _("${who} adjusted a member's balance${amount}"),
    "reserve.request_deposit": _("${who} asked to top up the risk reserve${amount}"),
    "reserve.request_withdrawal": _("${who} asked to withdraw from the risk reserve${amount}"),
    "reserve.approve": _("${who} approved risk reserve request ${object}${amount}"),
    "reserve.reject": _("${who} rejected risk reserve request ${object}${amount}"),
    "loan.first_review.approve": _("${who} approved loan ${object} in first review"),
    "loan.first_review.reject": _("${who} rejected loan ${object} in first review"),
    "loan.final_review.approve": _("${who} approved and disbursed loan ${object}"),
    "loan.final_review.reject": _("${who} rejected loan ${object} in final review"),
    "loan.guarantee_review.approve": _("${who} recorded the guarantor's acceptance of loan ${object}"),
    "loan.guarantee_review.reject": _("${who} recorded that the guarantor declined loan ${object}"),
    "loan.write_off.request": _("${who} asked to write off loan ${object}"),
    "loan.write_off.approve": _("${who} wrote off loan ${object}"),
    "loan.write_off.decline": _("${who} declined to write off loan ${object}"),
    "loan.offline_repayment.record": _("${who} recorded an offline repayment of loan ${object}${amount}"),
    "loan.offline_repayment.apply": _("${who} applied an offline repayment to loan ${object}${amount}"),
    "loan.offline_repayment.reject": _("${who} rejected an offline repayment of loan ${object}"),
    "loan.publish": _("${who} published loan ${object}${amount}"),
    "guarantor.create": _("${who} added guarantor ${object}"),
    "guarantor.fund": _("${who} recorded a deposit from guarantor ${object}${amount}"),
    "member.create": _("${who} created member ${object}"),
    "member.verification.approve": _("${who} approved the real-name verification of member ${object}"),
    "member.verification.reject": _("${who} rejected the real-name verification of member ${object}"),
    "member.violation.record": _("${who} recorded a violation by member ${object}"),
    "member.violation.lift": _("${who} lifted a violation of member ${object}"),
    "member.points": _("${who} adjusted the VIP points of member ${object}"),
    "member.credit_line": _("${who} set the credit line of member ${object}"),
    "member.message": _("${who} sent a message to member ${object}"),
    "member.document.open": _("${who} opened identity document ${object}"),
    "member.password_reset": _("${who} reset their password"),
    "member.password_change": _("${who} changed their password"),
    "staff.create": _("${who} created staff user ${object}"),
    "staff.access": _("${who} changed the access of staff user ${object}"),
    "staff.sessions_ended": _("${who} ended the sessions of staff user ${object}"),
    "role.permissions": _("${who} changed the permissions of role ${object}"),
    "role.create": _("${who} created role ${object}"),
    "role.update": _("${who} changed role ${object}"),
    "role.deactivate": _("${who} deactivated role ${object}"),
    "role.reactivate": _("${who} reactivated role ${object}"),
    "group.create": _("${who} created user group ${object}"),
    "group.update": _("${who} changed user group ${object}"),
    "group.delete": _("${who} deleted user group ${object}"),
    "org_unit.create": _("${who} created organization unit ${object}"),
    "org_unit.update": _("${who} changed organization unit ${object}"),
    "org_unit.delete": _("${who} deleted organization unit ${object}"),
    "org_unit.staff": _("${who} changed who works in organization unit ${object}"),
    "settings.branding": _("${who} changed the site's branding"),
    "settings.parameters": _("${who} changed the lending and funds settings"),
    "settings.menus": _("${who} changed the menus"),
    "settings.restore": _("${who} restored an earlier version of the settings"),
    "settings.plugin": _("${who} changed the plugins of site ${object}"),
    "settings.update": _("${who} changed the settings of site ${object}"),
    "sms_template.save": _("${who} changed SMS template ${object}"),
    "content.save": _("${who} saved ${object}"),
    "content.delete": _("${who} deleted ${object}"),
    "content.submit": _("${who} submitted ${object} for review"),
    "content.approve": _("${who} approved ${object}"),
    "content.return": _("${who} returned ${object} to its writer"),
    "content.publish": _("${who} published ${object}"),
    "content.unpublish": _("${who} unpublished ${object}"),
    "content.cover": _("${who} changed the image of ${object}"),
    "content_section.create": _("${who} created section ${object}"),
    "content_section.update": _("${who} changed section ${object}"),
    "content_section.delete": _("${who} deleted section ${object}"),
    "tenant.active": _("${who} resumed site ${object}"),
    "tenant.suspended": _("${who} suspended site ${object}"),
    "tenant.create": _("${who} created site ${object}"),
    "tenant.edit": _("${who} changed the settings of site ${object}"),
    "tenant.upload": _("${who} applied an uploaded manifest to site ${object}"),
    "tenant.export": _("${who} downloaded the manifest of site ${object}"),
    "tenant.archived": _("${who} archived site ${object}"),
    "tenant.restored": _("${who} restored site ${object}"),
    "staff.welcome": _("${who} chose a password with the welcome link"),
    "community.topic.pin": _("${who} pinned topic ${object}"),
    "community.topic.unpin": _("${who} unpinned topic ${object}"),
    "community.topic.lock": _("${who} locked topic ${object}"),
    "community.topic.unlock": _("${who} unlocked topic ${object}"),
    "community.topic.move": _("${who} moved topic ${object} to another board"),
    "community.topic.hide": _("${who} hid topic ${object}"),
    "community.topic.restore": _("${who} restored topic ${object}"),
    "community.topic.post": _("${who} posted topic ${object} as staff"),
    "community.post.hide": _("${who} hid a post in topic ${object}"),
    "community.post.restore": _("${who} restored a post in topic ${object}"),
    "community.post.approve": _("${who} approved a post in topic ${object}"),
    "community.post.dismiss": _("${who} closed the reports of a post in topic ${object}"),
    "community.ban": _("${who} banned member ${object} from posting"),
    "community.board": _("${who} saved board ${object}"),
    "community.settings": _("${who} changed the community settings"),
    "faq.category.save": _("${who} saved FAQ category ${object}"),
    "faq.category.delete": _("${who} deleted FAQ category ${object}"),
    "faq.question.save": _("${who} saved FAQ question ${object}"),
    "faq.question.delete": _("${who} deleted FAQ question ${object}"),
    "inbox.reply": _("${who} replied to message ${object}"),
    "inbox.assign": _("${who} assigned message ${object}"),
    "inbox.close": _("${who} closed message ${object}"),
    "inbox.reopen": _("${who} reopened message ${object}"),
    "chat.duty": _("${who} changed their live chat duty"),
    "chat.accept": _("${who} accepted the live chat with ${object}"),
    "chat.close": _("${who} closed the live chat with ${object}"),
    "chat.hours": _("${who} changed the live chat's office hours"),
    "chat.canned_save": _("${who} added canned reply ${object}"),
    "chat.canned_delete": _("${who} deleted canned reply ${object}"),
    "demo.seed": _("${who} filled the site with demo data"),
    # credit: customers and their financial statements
    "credit.customer.create": _("${who} created customer ${object}"),
    "credit.customer.update": _("${who} changed customer ${object}"),
    "credit.customer.sign_in": _("${who} let the borrower of customer ${object} sign in with their mobile number"),
    "credit.customer.merge": _("${who} merged a duplicate record into customer ${object}"),
    "credit.customer.document.upload": _("${who} uploaded customer document ${object}"),
    "credit.customer.document.open": _("${who} opened customer document ${object}"),
    "credit.customer.relation.add": _("${who} added a relationship to customer ${object}"),
    "credit.customer.relation.remove": _("${who} removed a relationship of customer ${object}"),
    "credit.customer.add_shareholder": _("${who} added shareholder ${object} to a corporate customer"),
    "credit.customer.remove_shareholder": _("${who} removed a shareholder of customer ${object}"),
    "credit.customer.add_account": _("${who} added a bank account to customer ${object}"),
    "credit.customer.remove_account": _("${who} removed a bank account of customer ${object}"),
    "credit.statement.enter": _("${who} entered a financial statement of customer ${object}"),
    "credit.statement.import": _("${who} imported a financial statement of customer ${object}"),
    "credit.statement.delete": _("${who} deleted a financial statement of customer ${object}"),
    # credit: rating models and ratings
    "credit.model.create": _("${who} created rating model ${object}"),
    "credit.model.edit": _("${who} edited a draft of rating model ${object}"),
    "credit.model.activate": _("${who} activated a version of rating model ${object}"),
    "credit.rating.accept": _("${who} rated a customer and accepted the proposed grade (rating ${object})"),
    "credit.rating.override": _("${who} proposed another grade in rating ${object}"),
    "credit.rating.approve": _("${who} approved rating ${object}"),
    "credit.rating.reject": _("${who} rejected rating ${object}"),
    "credit.rating.batch": _("${who} re-rated a customer (rating ${object})"),
    # credit: products, approval workflows and applications
    "credit.product.save": _("${who} saved credit product ${object}"),
    "credit.workflow.created": _("${who} created approval workflow ${object}"),
    "credit.workflow.new_version": _("${who} saved a new version of approval workflow ${object}"),
    "credit.workflow.changed": _("${who} changed approval workflow ${object}"),
    "credit.workflow.unchanged": _("${who} saved approval workflow ${object} without changes"),
    "credit.application.create": _("${who} created credit application ${object}${amount}"),
    "credit.application.terms": _("${who} changed the terms of credit application ${object}"),
    "credit.application.guarantee": _("${who} added a guarantor to credit application ${object}"),
    "credit.application.remove_guarantee": _("${who} removed a guarantor from credit application ${object}"),
    "credit.application.collateral": _("${who} added collateral to credit application ${object}"),
    "credit.application.remove_collateral": _("${who} removed collateral from credit application ${object}"),
    "credit.application.document": _("${who} attached a supporting document to credit application ${object}"),
    "credit.document.open": _("${who} opened supporting document ${object}"),
    "credit.application.submit": _("${who} submitted credit application ${object} for approval"),
    "credit.application.approve": _("${who} approved a step of credit application ${object}"),
    "credit.application.reject": _("${who} rejected credit application ${object}"),
    "credit.application.return": _("${who} returned credit application ${object} to an earlier step"),
    "credit.application.request_documents": _("${who} asked for documents for credit application ${object}"),
    "credit.application.withdraw": _("${who} withdrew credit application ${object}"),
    "credit.application.cancel": _("${who} cancelled credit application ${object}"),
    # credit: contracts, disbursement and the lending fund
    "credit.contract.draw_up": _("${who} drew up contract ${object}"),
    "credit.contract.sign": _("${who} recorded the signing of contract ${object}"),
    "credit.contract.scan.open": _("${who} opened the signed scan of contract ${object}"),
    "credit.disbursement.prepare": _("${who} prepared the disbursement of credit application ${object}"),
    "credit.disbursement.approve": _("${who} approved the disbursement of credit application ${object}"),
    "credit.lending_fund.request": _("${who} recorded capital injection ${object}${amount} for approval"),
    "credit.lending_fund.decide": _("${who} decided on capital injection ${object}"),
    # credit: classification
    "credit.classification.propose": _("${who} proposed another class for a loan (proposal ${object})"),
    "credit.classification.approve": _("${who} approved classification proposal ${object}"),
    "credit.classification.reject": _("${who} rejected classification proposal ${object}"),
    "credit.classification.evidence": _("${who} opened the evidence of classification proposal ${object}"),
    "credit.alert.acknowledge": _("${who} acknowledged loan alert ${object}"),
    "credit.alert.close": _("${who} closed loan alert ${object}"),
    "credit.alert.rules": _("${who} changed the loan alert rules"),
    "staff.email": _("${who} changed the email address of staff user ${object}"),
}
"""The sentence each audit action reads as: ``who`` acted on ``object``; ``whose`` and ``amount`` come from the
record the action was about (``"王小明's "``, ``" of ¥500.00"``) and are empty when unknown."""

_ALIASES = {  # the JSON API names its review stages otherwise
    "loan.review": "loan.first_review",
    "loan.final-review": "loan.final_review",
    "loan.guarantee": "loan.guarantee_review",
}

BECAUSE = {
    "staff.access": _("their access was changed"),
    "group.update": _("their user group was changed"),
    "role.permissions": _("role ${object} was changed"),
    "role.update": _("role ${object} was changed"),
    "role.deactivate": _("role ${object} was deactivated"),
    "role.reactivate": _("role ${object} was reactivated"),
}
"""Why sessions were ended (``staff.sessions_ended``'s ``because``: an action, and a role's code after a colon)."""

FIELDS = {
    "bank_reference": _("Bank reference"),
    "proposed_class": _("Proposed class"),
    "class_then": _("Class now"),
    "evidence": _("Evidence"),
    "loan_id": _("Loan"),
    "status": _("Status"),
    "amount": _("Amount"),
    "fee": _("Fee"),
    "currency": _("Currency"),
    "reason": _("Reason"),
    "note": _("Reason"),
    "verification": _("Verification"),
    "credit_line": _("Credit line"),
    "credit_grade": _("Credit grade"),
    "permissions": _("Permissions"),
    "requires_2fa": _("Two-factor sign-in"),
    "second_factor": _("Two-factor sign-in"),
    "roles": _("Roles"),
    "groups": _("User groups"),
    "org_unit": _("Organization unit"),
    "active": _("Active"),
    "login": _("Login"),
    "sessions": _("Sessions ended"),
    "because": _("Because"),
    "published_at": _("Publish at"),
    "in_menu": _("In the menu"),
    "in_footer": _("In the footer"),
    "on_duty": _("On duty"),
    "thread": _("Conversation"),
    "assigned_to": _("Assigned to"),
    "position": _("Position"),
    "locale": _("Language"),
    "pinned": _("Pinned"),
    "locked": _("Locked"),
    "board": _("Board"),
    "until": _("Until"),
    "reports": _("Reports closed"),
    "names": _("Names"),
    "staff_only": _("Staff posts only"),
    "verified_only": _("Verified members only"),
    "points_per_topic": _("Points per topic"),
    "points_per_reply": _("Points per reply"),
    "sensitive_words": _("Sensitive words"),
    "sensitive_action": _("Sensitive word action"),
    "staff": _("Staff"),
    "name": _("Name"),
    "quota": _("Quota"),
    "parent": _("Under"),
    "title": _("Title"),
    "kind": _("Kind"),
    "published": _("Published"),
    "body": _("Text"),
    "subject": _("Subject"),
    "message": _("Message"),
    "member": _("Member"),
    "phone": _("Mobile"),
    "type": _("Loan type"),
    "direction": _("Top-up or withdrawal"),
    "account": _("From or to"),
    "key": _("Reference"),
    "reserve_balance": _("Reserve balance after"),
    "verdict": _("Gateway's answer"),
    "via": _("Code sent by"),
    "violation": _("Violation"),
    "bidding": _("Bidding frozen"),
    "withdrawal": _("Withdrawal frozen"),
    "points": _("Points"),
    "balance_after": _("Balance after"),
    "changed": _("Changed"),
    # loan events
    "bid": _("Bid"),
    "bids": _("Bids"),
    "auto": _("Automatic"),
    "requested": _("Requested"),
    "funded": _("Funded"),
    "period": _("Period"),
    "periods": _("Periods"),
    "late_fee": _("Late fee"),
    "penalty": _("Penalty"),
    "service_fee": _("Service fee"),
    "lender_fees": _("Lenders' fees"),
    "prepayment_fee": _("Prepayment fee"),
    "interest": _("Interest"),
    "principal": _("Principal"),
    "approve": _("Approved"),
    "why": _("Reason"),
    "collateral": _("Collateral"),
    "requested_by": _("Requested by"),
    "fee_mode": _("Fee charged"),
    "members": _("Members"),
    "closed_days": _("Days closed"),
    "from": _("From"),
    "business_date": _("Business date"),
    "loans": _("Loans"),
    "seeded": _("Filled"),
    # a tenant's settings (the manifest's keys; a nested one reads as its path, see ``field_label``)
    "slug": _("Short name"),
    "hosts": _("Hosts"),
    "locales": _("Languages"),
    "default_locale": _("Default language"),
    "theme": _("Theme"),
    "timezone": _("Time zone"),
    "branding": _("Branding"),
    "site_title": _("Site name"),
    "plugins": _("Plugins"),
    "enabled": _("Enabled"),
    "email": _("Email"),
}
"""What each recorded key is called on the page; a key missing here shows spelled out (``late fee``)."""

MONEY_KEYS = frozenset(
    {
        "amount",
        "fee",
        "quota",
        "credit_line",
        "reserve_balance",
        "requested",
        "funded",
        "late_fee",
        "penalty",
        "service_fee",
        "lender_fees",
        "prepayment_fee",
        "interest",
        "principal",
        "taken",
    }
)
"""Keys whose integer values are amounts in minor units (shown formatted in the record's currency)."""

ACTOR_KEYS = frozenset({"requested_by", "by"})

FEE_MODES = {
    "installments": _("With each installment"),
    "upfront": _("Up front, at disbursement"),
    "deducted": _("Deducted from the amount disbursed"),
}
"""How a loan's fee was charged (``[lending] borrower_fee_mode``), as a disbursement event records it."""

_STATUS_KINDS = {  # which label table names a recorded status, by the object it belongs to
    "chat": "chat_status",
    "content_item": "content_status",
    "content_section": None,
    "payment": "funds_status",
    "withdrawal": "funds_status",
    "adjustment": "funds_status",
    "reserve_request": "funds_status",
    "loan": "loan_status",
    "tenant": "tenant_status",
    "credit_application": "credit_application_status",
    "credit_rating": "rating_status",
    "credit_contract": "credit_contract_status",
    "credit_fund_injection": "credit_contract_status",
    "credit_class_proposal": "class_proposal_status",
    "credit_alert": "credit_alert_status",
}


def action_of(event) -> str:
    """The action with the API's stage names mapped to the back office's (one sentence for both)."""
    head, _dot, decision = event.action.rpartition(".")
    return f"{_ALIASES.get(head, head)}.{decision}" if head in _ALIASES else event.action


def describe(event, h, facts: dict | None = None) -> dict:
    """How an audit row reads: ``sentence`` (translated) and ``changes`` [(label, before, after)] as text.

    ``h`` is the page's template helpers (locale, currency, labels); ``facts`` what the page looked up about
    the object (``{"whose": member name, "amount": minor, "currency": …}``), so a withdrawal's row names its
    member and amount even where the row recorded only a status. An action without a sentence reads as
    its object and the readable changes.
    """
    facts = facts or {}
    before, after = event.before or {}, event.after or {}
    currency = after.get("currency") or before.get("currency") or facts.get("currency")
    amount = facts.get("amount", after.get("amount") if isinstance(after.get("amount"), int) else None)
    mapping = {
        "who": h.actor(event.actor),
        "object": _object_name(event, h, facts),
        "whose": h.t(_("${name}'s ", mapping={"name": facts["whose"]})) if facts.get("whose") else "",
        "amount": h.t(_(" of ${amount}", mapping={"amount": h.money(amount, currency)})) if amount is not None else "",
    }
    sentence = SENTENCES.get(action_of(event))
    if sentence is None:
        sentence = _("${who}: ${object}")
        mapping["object"] = f"{event.object_type} {event.object_id}".strip()
    return {
        # the row as recorded, for tools and searches: the page keeps it in attributes, never in its text
        "before": json.dumps(event.before, ensure_ascii=False, sort_keys=True) if event.before else None,
        "after": json.dumps(event.after, ensure_ascii=False, sort_keys=True) if event.after else None,
        "sentence": h.t(_(sentence, mapping=mapping)),
        "changes": changes(
            before,
            after,
            h,
            kind=_STATUS_KINDS.get(event.object_type),
            currency=currency,
            keep_currency=event.object_type == "tenant",  # a site's own currency, not a money figure's
        ),
    }


_NAMED_BY = ("name", "login", "title")  # the recorded key that names a guarantor, a group, a staff user, a page


def _object_name(event, h, facts: dict) -> str:
    """The object as a person knows it: its name where the row or the page knows one, else its number."""
    if facts.get("object"):
        return facts["object"]
    if event.object_type == "role":
        return h.role(event.object_id)
    if event.object_type == "sms_template":
        code, _slash, locale = event.object_id.partition("/")
        return f"{h.sms_template(code)} ({h.locale_name(locale)})" if locale else h.sms_template(code)
    for recorded in (event.after or {}, event.before or {}):
        for key in _NAMED_BY:
            if isinstance(recorded.get(key), str) and recorded[key]:
                return recorded[key]
    return event.object_id


def changes(
    before: dict, after: dict, h, *, kind: str | None = None, currency: str | None = None, keep_currency=False
) -> list:
    """Each key of ``before``/``after`` as (label, before text, after text); keys unchanged in both are kept once."""
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        if key == "currency" and not keep_currency:
            continue
        old = value_text(key, before.get(key), h, kind=kind, currency=currency) if key in before else ""
        new = value_text(key, after.get(key), h, kind=kind, currency=currency) if key in after else ""
        rows.append((field_label(key, h), old, new))
    return rows


def field_label(key: str, h) -> str:
    """A recorded key by its name; a manifest path (``branding.site_title.en``) part by part: "Branding › Site
    name › English", a plugin by its own name, a list's item by its number from 1."""
    if "." in key or "[" in key:
        return " › ".join(_path_parts(key, h))
    if key in LOCALE_NAMES:
        return locale_name(key)
    label = FIELDS.get(key)
    return h.t(label) if label is not None else key.replace("_", " ")


def _path_parts(path: str, h) -> list[str]:
    parts = [p for p in re.split(r"\.|(?=\[)", path) if p]
    if len(parts) >= 3 and parts[0] == "plugins":  # a plugin id holds a dot itself: plugins.payments.sandbox.secret
        parts = [parts[0], f"{parts[1]}.{parts[2]}", *parts[3:]]
        named = [field_label("plugins", h), _plugin_name(parts[1], h)]
        return named + [_part_label(p, h) for p in parts[2:]]
    return [_part_label(p, h) for p in parts]


def _part_label(part: str, h) -> str:
    if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():  # a list's item: menus.portal[0]
        return h.number(int(part[1:-1]) + 1)
    return field_label(part, h)


def _plugin_name(plugin_id: str, h) -> str:
    """An installed plugin by its name in the reader's language (its id when it is no longer installed)."""
    try:
        return h.request.registry["plugins"].info(plugin_id).display_name(h.locale)
    except (KeyError, ValueError):
        return plugin_id


def value_text(key: str, value, h, *, kind: str | None = None, currency: str | None = None) -> str:
    """A recorded value as a person reads it: money formatted, statuses, roles and permissions named."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return h.t(_("Yes") if value else _("No"))
    if key in MONEY_KEYS and isinstance(value, int):
        return h.money(value, currency)
    if key == "status" and kind:
        return h.t(h.label(kind, value))
    last = re.split(r"[.\[]", key)[-1]
    if last in ("locales", "default_locale"):  # a tenant's languages, each by its own name
        return ", ".join(locale_name(code) for code in (value if isinstance(value, list) else [value]))
    if key == "verification":
        return h.t(h.label("verification", value))
    if key == "because" and isinstance(value, str):
        action, _sep, code = value.partition(":")
        if action in BECAUSE:
            named = h.role(code) if action.startswith("role.") else code
            return h.request.localizer.translate(BECAUSE[action], mapping={"object": named})
    if key == "permissions" and isinstance(value, list):
        return ("、" if h.locale.startswith("zh") else "; ").join(h.permission(p) for p in value)
    if key == "roles" and isinstance(value, list):
        return ", ".join(h.role(r) for r in value)
    if key in ACTOR_KEYS and isinstance(value, str):
        return h.actor(value)
    if key == "plugins" and isinstance(value, list):
        return ", ".join(_plugin_name(plugin_id, h) for plugin_id in value)
    if key == "type" and isinstance(value, str):
        return h.loan_type(value)
    if key == "loans" and isinstance(value, dict):
        return h.number(len(value))  # the demo seed's loans by story key: their count is what a reader needs
    if key == "fee_mode":
        return h.t(FEE_MODES.get(value, value))
    if isinstance(value, dict):
        return "; ".join(
            f"{field_label(k, h)}: {value_text(k, v, h, kind=kind, currency=currency)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
