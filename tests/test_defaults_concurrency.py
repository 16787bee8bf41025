"""A site's defaults (content sections and pages, community boards and settings, the starter FAQ) are made when
its settings are applied, so its pages only read; a site made before them gets them once, even when its first
visitors arrive together (raced through a served app, each request on its own connection)."""

import concurrent.futures
import threading

import httpx
import sqlalchemy as sa

from core.community.models import Board, CommunitySettings
from core.content.defaults import PAGE_TEMPLATES
from core.content.models import ContentItem, Section
from core.help.models import FaqQuestion
from core.tenancy.services import tenant_by_slug

HOST = "fresh.localhost"
STARTED = {"boards": 4, "community_settings": 1, "sections": 4, "pages": len(PAGE_TEMPLATES) * 2, "faq": 4 * 2}
"""What a site in two languages starts with: the default boards and settings, the built-in sections, each page
template in each language, the four starter questions in each language."""
MANIFEST = """
slug = "fresh"
name = "Fresh Lending"
locales = ["en", "zh_Hans"]
currency = "USD"
hosts = ["fresh.localhost"]
"""


def race(count, work):
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def counts(db, slug="fresh") -> dict:
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug).id

        def count(model, *where):
            query = sa.select(sa.func.count()).select_from(model).where(model.tenant_id == tenant, *where)
            return session.scalar(query)

        return {  # what this part of the product starts a site with (other parts may add their own)
            "boards": count(Board),
            "community_settings": count(CommunitySettings),
            "sections": count(Section, Section.code.is_not(None)),
            "pages": count(ContentItem, ContentItem.template.in_(list(PAGE_TEMPLATES))),
            "faq": count(FaqQuestion),
        }


def fresh_site(apply_manifest, tmp_path):
    path = tmp_path / "fresh.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    return apply_manifest(path)


def test_applying_a_new_site_makes_its_defaults_before_anyone_visits(apply_manifest, db, tmp_path, client):
    fresh_site(apply_manifest, tmp_path)
    made = counts(db)
    assert made == STARTED
    for path in ("/community", "/news", "/pages", "/help"):
        client.get(HOST, path, status=200)
    assert counts(db) == made  # reading made nothing more


def test_applying_again_makes_only_what_is_missing(apply_manifest, db, tmp_path):
    fresh_site(apply_manifest, tmp_path)
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "fresh").id
        session.execute(sa.delete(CommunitySettings).where(CommunitySettings.tenant_id == tenant))
        session.execute(sa.delete(Section).where(Section.tenant_id == tenant, Section.code == "industry"))
    fresh_site(apply_manifest, tmp_path)
    assert counts(db) == STARTED


def test_first_visitors_arriving_together_at_a_site_made_before_the_defaults_all_get_pages(
    served, apply_manifest, db, tmp_path
):
    fresh_site(apply_manifest, tmp_path)
    with db.transaction() as session:  # as a site made before the community and the content centre
        tenant = tenant_by_slug(session, "fresh").id
        session.execute(sa.delete(Board).where(Board.tenant_id == tenant))
        session.execute(sa.delete(CommunitySettings).where(CommunitySettings.tenant_id == tenant))
        session.execute(sa.delete(ContentItem).where(ContentItem.tenant_id == tenant))
        session.execute(sa.delete(Section).where(Section.tenant_id == tenant))

    def visit(i):
        with httpx.Client(base_url=served, headers={"Host": HOST}, timeout=60) as http:
            return http.get("/community" if i % 2 else "/news").status_code

    assert race(8, visit) == [200] * 8
    assert counts(db) == STARTED
