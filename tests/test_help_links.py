"""Pages that raise a question link to the site's own answer: every site starts with FAQ questions that have
stable keys; the registration, recharge and withdrawal pages link to the question of their key in the reader's
language, and to the help centre when the site has deleted or unpublished it."""

import re

import sqlalchemy as sa

from core.help.models import FaqCategory, FaqQuestion
from core.tenancy.services import tenant_by_slug
from tests.helpers import member_client, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"


def hint(html: str) -> tuple[str, str]:
    """The help link at the top of a page: (address, text)."""
    found = re.search(r'<p class="hint">\s*<a href="([^"]+)">([^<]+)</a>', html)
    assert found, html
    return found.group(1), found.group(2)


def starter(db, slug, key, locale) -> int:
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        return session.scalars(
            sa.select(FaqQuestion.id)
            .join(FaqCategory)
            .where(FaqQuestion.tenant_id == tenant.id, FaqQuestion.key == key, FaqCategory.locale == locale)
        ).one()


def test_every_site_starts_with_the_linked_questions_in_each_of_its_languages(db, tenants, client):
    with db.transaction() as session:
        for slug in ("demo", "acme"):
            tenant = tenant_by_slug(session, slug)
            rows = session.execute(
                sa.select(FaqCategory.locale, FaqQuestion.key, FaqQuestion.published)
                .join(FaqCategory)
                .where(FaqQuestion.tenant_id == tenant.id)
            ).all()
            assert {(locale, key) for locale, key, _ in rows} == {
                (locale, key) for locale in tenant.locales for key in ("register", "verify", "recharge", "withdraw")
            }
            assert all(published for *_, published in rows)
    page = client.get(DEMO, "/help?_LOCALE_=zh_Hant").text
    assert "註冊與認證" in page and "<summary>如何提現？多久到帳？</summary>" in page


def test_the_registration_page_links_to_its_question_in_the_readers_language(db, tenants, client):
    assert hint(client.get(DEMO, "/register?_LOCALE_=zh_Hant").text) == (
        f"/help/q/{starter(db, 'demo', 'register', 'zh_Hant')}",
        "如何註冊？",
    )
    assert hint(client.get(DEMO, "/register?_LOCALE_=en").text) == (
        f"/help/q/{starter(db, 'demo', 'register', 'en')}",
        "How do I register?",
    )
    acme = hint(client.get(ACME, "/register?_LOCALE_=en").text)
    assert acme == (f"/help/q/{starter(db, 'acme', 'register', 'en')}", "How do I register?")
    assert acme[0] != f"/help/q/{starter(db, 'demo', 'register', 'en')}"  # each site its own question
    linked = hint(client.get(DEMO, "/register?_LOCALE_=zh_Hant").text)[0]
    assert "<h1>如何註冊？</h1>" in client.get(DEMO, linked + "?_LOCALE_=zh_Hant").text


def test_recharge_and_withdrawal_link_to_theirs_and_to_the_help_centre_once_deleted(wsgi_app, db, tenants, client):
    member, _ = member_client(wsgi_app, db, "13800138501")
    recharge = starter(db, "demo", "recharge", "zh_Hant")
    withdraw = starter(db, "demo", "withdraw", "zh_Hant")
    assert hint(member.get(DEMO, "/account/recharge?_LOCALE_=zh_Hant").text) == (
        f"/help/q/{recharge}",
        "充值多久到帳？",
    )
    assert hint(member.get(DEMO, "/account/withdraw?_LOCALE_=zh_Hant").text)[0] == f"/help/q/{withdraw}"

    editor = staff_client(wsgi_app, db, "faq-editor", "content_editor")
    page = editor.get(DEMO, f"/admin/help/questions/{recharge}")
    submit(editor, DEMO, page, {"question": "充值何時到帳？"}, status=303)  # reworded: still linked by its key
    assert hint(member.get(DEMO, "/account/recharge?_LOCALE_=zh_Hant").text) == (
        f"/help/q/{recharge}",
        "充值何時到帳？",
    )
    page = editor.get(DEMO, f"/admin/help/questions/{withdraw}")
    form = [f for f in page.forms.values() if "answer" in f.fields][0]
    form["published"] = False
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert hint(member.get(DEMO, "/account/withdraw?_LOCALE_=zh_Hant").text)[0] == "/help"  # unpublished

    with db.transaction() as session:
        session.execute(sa.delete(FaqQuestion).where(FaqQuestion.id == recharge))
    assert hint(member.get(DEMO, "/account/recharge?_LOCALE_=zh_Hant").text)[0] == "/help"
    assert hint(member.get(DEMO, "/account/recharge?_LOCALE_=en").text)[0] == (
        f"/help/q/{starter(db, 'demo', 'recharge', 'en')}"  # the English question is still there
    )


def test_applying_the_settings_again_does_not_bring_a_deleted_question_back(db, tenants, plugins):
    from core.tenancy import manifest

    with db.transaction() as session:
        session.execute(sa.delete(FaqQuestion).where(FaqQuestion.key == "withdraw"))
        demo = tenant_by_slug(session, "demo")
        manifest.change(
            session, demo, plugins, lambda data: data.update(name="鼎信網貸 2"), actor="test", action="test"
        )
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).where(FaqQuestion.key == "withdraw")) == 0
        assert session.scalar(sa.select(sa.func.count()).where(FaqQuestion.key == "register")) == 5

    with db.transaction() as session:  # a language added to a site: it starts with the questions too
        acme = tenant_by_slug(session, "acme")
        manifest.change(
            session,
            acme,
            plugins,
            lambda data: data.update(locales=["en", "zh_Hans", "zh_Hant"]),
            actor="t",
            action="t",
        )
    assert starter(db, "acme", "withdraw", "zh_Hant")
