"""The FAQ: staff write it per language, readers open and search it (Chinese too) and vote once per question."""

import re

import pytest
import sqlalchemy as sa

from core.help.models import FaqCategory, FaqQuestion, FaqVote
from core.tenancy.services import tenant_by_slug
from tests.helpers import member_client, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"
ANSWER = "提現申請通常在一個工作日內到帳，遇節假日順延。詳見[提現說明](/help)。"


@pytest.fixture(autouse=True)
def no_starter_faq(db, tenants):
    """These tests write the FAQ from nothing: the starter questions every site begins with are deleted first."""
    with db.transaction() as session:
        session.execute(sa.delete(FaqQuestion))
        session.execute(sa.delete(FaqCategory))


def faq_data(db, slug="demo", locale="zh_Hant", published=True, answer=ANSWER, question="提現多久到帳？"):
    """A category with one question; (category id, question id)."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        category = FaqCategory(tenant_id=tenant.id, locale=locale, name="資金問題", position=1)
        session.add(category)
        session.flush()
        q = FaqQuestion(
            tenant_id=tenant.id, category_id=category.id, question=question, answer=answer, published=published
        )
        session.add(q)
        session.flush()
        return category.id, q.id


def test_an_editor_writes_the_faq_and_readers_open_it_without_script(wsgi_app, db, tenants, client):
    editor = staff_client(wsgi_app, db, "editor", "content_editor")
    page = editor.get(DEMO, "/admin/help?_LOCALE_=en")
    refused = submit(editor, DEMO, page, {"name": "", "locale": "zh_Hant"}, status=400)
    assert "Enter a name" in refused.text
    submit(editor, DEMO, page, {"name": "註冊與認證", "locale": "zh_Hant", "position": "2"}, status=303)
    submit(editor, DEMO, page, {"name": "資金問題", "locale": "zh_Hant", "position": "1"}, status=303)
    with db.transaction() as session:
        ids = {c.name: c.id for c in session.scalars(sa.select(FaqCategory))}
    new = editor.get(DEMO, f"/admin/help/questions/new?category={ids['資金問題']}&_LOCALE_=en")
    assert "Enter a question" in submit(editor, DEMO, new, {"question": "", "answer": "x"}, status=400).text
    submit(editor, DEMO, new, {"question": "提現多久到帳？", "answer": ANSWER, "position": "1"}, status=303)
    new = editor.get(DEMO, f"/admin/help/questions/new?category={ids['註冊與認證']}")
    submit(editor, DEMO, new, {"question": "如何實名認證？", "answer": "上傳身分證正反面。"}, status=303)
    draft = editor.get(DEMO, f"/admin/help/questions/new?category={ids['資金問題']}")
    form = [f for f in draft.forms.values() if "answer" in f.fields][0]
    form["question"], form["answer"], form["published"] = "草稿問題", "未發布", False
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)

    page = client.get(DEMO, "/help")
    assert page.text.index("資金問題") < page.text.index("註冊與認證")  # categories in their order
    assert "<details" in page.text and "<summary>提現多久到帳？</summary>" in page.text
    assert "一個工作日內到帳" in page.text and "草稿問題" not in page.text
    assert 'rel="nofollow noopener"' in page.text  # the answer's Markdown rendered and sanitised
    assert "資金問題" not in client.get(DEMO, "/help?_LOCALE_=en").text  # another language, other categories
    audit = staff_client(wsgi_app, db, "auditor", "auditor").get(DEMO, "/admin/audit?q=faq").text
    assert "faq.question.save" in audit or "提現多久到帳" in audit


def test_search_in_chinese_finds_a_phrase_inside_a_sentence(db, tenants, client):
    _, qid = faq_data(db)
    faq_data(db, question="如何綁定銀行卡？", answer="在帳戶頁的銀行卡頁綁定本人名下的卡。")
    found = client.get(DEMO, "/help/search", params={"q": "工作日"})
    assert "提現多久到帳？" in found.text and "如何綁定銀行卡" not in found.text
    both = client.get(DEMO, "/help/search", params={"q": "到帳 節假日"})  # every term, each inside the text
    assert "提現多久到帳？" in both.text
    none = client.get(DEMO, "/help/search", params={"q": "貸款利率", "_LOCALE_": "en"})
    assert "No question matches" in none.text
    assert client.get(DEMO, "/help/search?q=%25").status_int == 200  # LIKE wildcards are searched as text
    assert "提現多久到帳" not in client.get(DEMO, "/help/search?q=_").text
    assert f"/help/q/{qid}" in found.text


def test_unpublished_questions_are_not_found(db, tenants, client):
    _, qid = faq_data(db, published=False)
    client.get(DEMO, f"/help/q/{qid}", status=404)
    assert "提現多久到帳" not in client.get(DEMO, "/help/search", params={"q": "工作日"}).text


def vote(client, qid, helpful):
    page = client.get(DEMO, f"/help/q/{qid}")
    form = [f for f in page.forms.values() if f.action.endswith("/vote")][0]
    return form.submit("helpful", value=helpful, extra_environ={"HTTP_HOST": DEMO}, status="*")


def counts(db, qid):
    with db.transaction() as session:
        q = session.get(FaqQuestion, qid)
        return q.helpful_yes, q.helpful_no


def test_helpful_votes_count_once_per_visitor(wsgi_app, db, tenants, client):
    from tests.conftest import Client

    _, qid = faq_data(db)
    assert vote(client, qid, "yes").status_int == 303
    assert vote(client, qid, "yes").status_int == 303  # the same visitor (their cookie) again
    assert vote(client, qid, "no").status_int == 303  # changing their mind is not another vote
    assert counts(db, qid) == (1, 0)
    other = Client(wsgi_app)
    vote(other, qid, "no")
    assert counts(db, qid) == (1, 1)
    member, _ = member_client(wsgi_app, db, "13800138301")
    vote(member, qid, "yes")
    vote(member, qid, "yes")
    assert counts(db, qid) == (2, 1)
    page = client.get(DEMO, f"/help/q/{qid}?voted=1&_LOCALE_=en")
    assert "Thank you for your answer" in page.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FaqVote)) == 3


def test_votes_are_throttled_per_address(db, tenants, client, wsgi_app):
    from core.throttle import RULES as THROTTLES
    from tests.conftest import Client

    _, qid = faq_data(db)
    allowed = int(THROTTLES["help.vote.address"].split("/")[0])
    for _n in range(allowed):
        assert vote(Client(wsgi_app), qid, "yes").status_int == 303
    assert vote(Client(wsgi_app), qid, "yes").status_int == 429
    assert counts(db, qid) == (allowed, 0)


def test_xss_in_answers_is_not_executable(db, tenants, client):
    vectors = (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n<svg onload=alert(3)>\n\n"
        '[a](javascript:alert(4)) [b](jAvAsCrIpT:alert(5)) "><script>alert(6)</script>'
    )
    _, qid = faq_data(db, answer=vectors, question='"><script>alert(7)</script>')
    for path in (f"/help/q/{qid}", "/help", "/help/search?q=alert"):
        text = client.get(DEMO, path).text
        assert "<script>alert" not in text and "<img src=x" not in text and "<svg" not in text
        assert not re.search(r"(?i)href=\"javascript:", text)
        assert "onerror=alert(2)" not in text or "&lt;img" in text


def test_another_tenants_questions_are_not_found_either_way(wsgi_app, db, tenants, client):
    category, qid = faq_data(db)
    _, acme_qid = faq_data(db, slug="acme", locale="en", question="How long does a withdrawal take?")
    client.get(ACME, f"/help/q/{qid}", status=404)
    client.get(DEMO, f"/help/q/{acme_qid}", status=404)
    assert "How long" not in client.get(DEMO, "/help?_LOCALE_=en").text
    acme_editor = staff_client(wsgi_app, db, "acme-editor", "content_editor", slug="acme", host=ACME)
    acme_editor.get(ACME, f"/admin/help/questions/{qid}", status=404)
    acme_editor.get(ACME, f"/admin/help/categories/{category}", status=404)
    demo_editor = staff_client(wsgi_app, db, "demo-editor", "content_editor")
    demo_editor.get(DEMO, f"/admin/help/questions/{acme_qid}", status=404)
    page = demo_editor.get(DEMO, "/admin/help/questions/new")
    form = [f for f in page.forms.values() if "answer" in f.fields][0]
    form.fields["category_id"][0].force_value(str(category + 1000))
    form["question"], form["answer"] = "x", "y"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=400)


def test_the_faq_editor_needs_content_write(wsgi_app, db, tenants):
    service = staff_client(wsgi_app, db, "service", "customer_service")
    service.get(DEMO, "/admin/help", status=403)
    service.get(DEMO, "/admin/help/questions/new", status=403)


def test_api_faq_lists_and_searches_in_the_requests_language(db, tenants, client):
    faq_data(db)
    faq_data(db, locale="en", question="How long does a withdrawal take?", answer="One working day.")
    found = client.get(DEMO, "/api/v1/faq", params={"q": "工作日"}).json
    assert [q["question"] for q in found["questions"]] == ["提現多久到帳？"]
    assert found["questions"][0]["answer_html"].startswith("<p>")
    english = client.get(DEMO, "/api/v1/faq", headers={"Accept-Language": "en"}).json
    assert [q["question"] for q in english["questions"]] == ["How long does a withdrawal take?"]
    assert client.get(ACME, "/api/v1/faq").json["questions"] == []
