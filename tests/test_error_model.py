"""One error model: every service refusal is a DomainError(field, message), rendered in one place.

Pages answer the form again with the message by its field (400); the API answers a problem detail naming
the field (422); a form-less back-office action answers the message as text (400). Every answer is a 4xx,
so the request's transaction is aborted: a refusal changes nothing.
"""

import pytest
import sqlalchemy as sa

from core.accounts.services import AccountError
from core.content.models import ContentItem
from core.content.services import ContentError
from core.domain import DomainError
from core.i18n import _
from core.loans import LoanError
from core.members.models import BankCard
from core.members.services import MemberError
from core.payments.models import Adjustment
from core.payments.services import FundsError
from core.schedules import ScheduleError
from core.sms import SmsError
from core.sms_templates import TemplateError
from tests.helpers import PASSWORD, member_client, staff_client

DEMO = "demo.localhost"


@pytest.mark.parametrize(
    "error_class", [LoanError, FundsError, MemberError, ContentError, TemplateError, ScheduleError]
)
def test_every_service_error_is_a_domain_error_naming_the_field_first(error_class):
    message = _("Enter an amount greater than zero.")
    error = error_class("amount", message)
    assert isinstance(error, DomainError) and isinstance(error, ValueError)
    assert (error.field, error.message, error.status) == ("amount", message, 422)


def test_the_english_errors_keep_their_text():
    """A schedule's refusal reads as its English message (plugins log it); staff and SMS errors too."""
    assert (
        str(ScheduleError("term_months", _("The term must be a multiple of 3 months.")))
        == "The term must be a multiple of 3 months."
    )
    assert isinstance(AccountError("login", "operator x already exists"), DomainError)
    assert (str(AccountError("login", "operator x already exists")), AccountError("login", "m").field) == (
        "operator x already exists",
        "login",
    )
    assert (str(SmsError("phone", "not a number")), SmsError("phone", "not a number").field) == (
        "not a number",
        "phone",
    )


def test_a_refused_form_shows_the_message_by_its_field_and_keeps_nothing(wsgi_app, db, tenants):
    client, member_id = member_client(wsgi_app, db, "13800139001")
    page = client.get(DEMO, "/account/cards")
    form = page.forms[[k for k, f in page.forms.items() if "number" in f.fields][0]]
    form["bank_name"], form["holder_name"], form["number"] = "工商銀行", "王小明", "1234"
    refused = form.submit(extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert refused.content_type == "text/html"
    again = refused.forms[[k for k, f in refused.forms.items() if "number" in f.fields][0]]
    assert again["bank_name"].value == "工商銀行"  # what was typed is kept
    assert refused.html.select_one("#number")["aria-invalid"] == "true"  # the message is by its field
    assert refused.html.select_one("p#number-error").text.strip()
    assert refused.html.select_one("#bank_name").get("aria-invalid") is None
    with db.transaction() as session:
        assert session.scalars(sa.select(BankCard).where(BankCard.member_id == member_id)).all() == []


def test_a_refused_api_call_is_a_problem_detail_naming_the_field(wsgi_app, db, tenants, client):
    member_client(wsgi_app, db, "13800139002")
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800139002", "password": PASSWORD}).json["token"]
    answer = client.app.put_json(
        "/api/v1/me/autoinvest",
        {"amount_per_loan": "500.00", "min_rate": "9", "max_rate": "3"},
        headers={"Authorization": f"Bearer {token}", "Host": DEMO},
        status=422,
    )
    assert answer.content_type == "application/problem+json"
    body = answer.json
    assert (body["type"], body["title"], body["status"], body["field"]) == (
        "about:blank",
        "Unprocessable request",
        422,
        "min_rate",
    )
    assert [e["field"] for e in body["errors"]] == ["min_rate"]
    assert body["detail"] == f"min_rate: {body['errors'][0]['message']}"


def test_the_api_names_a_refused_field_as_the_api_does(wsgi_app, db, tenants, client):
    """The funds services call the card ``card``; the API's field is ``card_id``."""
    member_client(wsgi_app, db, "13800139003")
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800139003", "password": PASSWORD}).json["token"]
    answer = client.post_json(
        DEMO,
        "/api/v1/me/withdrawals",
        {"card_id": 999999, "amount": "10.00"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "withdraw-0001"},
        status=422,
    )
    assert answer.json["field"] == "card_id"


def test_a_refused_page_with_one_message_shows_it_on_top(wsgi_app, db, tenants):
    staff = staff_client(wsgi_app, db, "fin-errors", "administrator")
    page = staff.get(DEMO, "/admin/funds/adjustments")
    form = page.forms[[k for k, f in page.forms.items() if "member" in f.fields][0]]
    form["member"], form["amount"], form["reason"] = "99999999", "10.00", "correction"
    refused = form.submit(extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert "no such member" in refused.text  # the adjustments page, with its one message on top


def test_a_form_less_back_office_action_answers_the_message_as_text(wsgi_app, db, tenants):
    _, member_id = member_client(wsgi_app, db, "13800139004")
    staff = staff_client(wsgi_app, db, "fin-errors2", "administrator")
    page = staff.get(DEMO, "/admin/funds/adjustments")
    form = page.forms[[k for k, f in page.forms.items() if "member" in f.fields][0]]
    form["member"], form["amount"], form["reason"] = str(member_id), "10.00", "correction"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        adjustment_id = session.scalars(sa.select(Adjustment.id)).one()
    token = form["csrf_token"].value
    refused = staff.post(
        DEMO, f"/admin/funds/adjustments/{adjustment_id}", {"csrf_token": token, "decision": "approve"}, status=400
    )
    assert refused.content_type == "text/plain"
    assert refused.text == "調帳須由另一人核准。"  # the demo site speaks zh_Hant
    with db.transaction() as session:
        assert session.get(Adjustment, adjustment_id).status == "pending"


def test_a_refusal_after_a_write_rolls_the_write_back(settings, plugins, db, tenants):
    """The refusal is rendered (400), and pyramid_tm's commit veto aborts what the view wrote before it."""
    from webtest import TestApp

    from core import make_config
    from core.forms import by_field, on_refusal

    def write_then_refuse(request):
        request.dbsession.add(ContentItem(kind="news", title="kept?", tenant_id=request.tenant.id))
        request.dbsession.flush()
        on_refusal(request, lambda error: by_field({"wrote": True}, error))
        raise MemberError("title", _("Give the member a reason."))

    config = make_config(settings, plugins)
    config.add_route("test.refusal", "/test-refusal", host_kind="tenant")
    config.add_view(write_then_refuse, route_name="test.refusal", renderer="json", require_csrf=False)
    app = TestApp(config.make_wsgi_app())
    try:
        answer = app.post("/test-refusal", extra_environ={"HTTP_HOST": DEMO}, status=400)
    finally:
        config.registry["db_engine"].dispose()
    assert answer.json == {"wrote": True, "errors": {"title": "Give the member a reason."}}
    with db.transaction() as session:
        assert session.scalars(sa.select(ContentItem).where(ContentItem.title == "kept?")).all() == []
