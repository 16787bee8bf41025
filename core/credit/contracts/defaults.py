"""What every tenant's contracts start with: the contract template as a draft page of the content centre.

The page (``loan-contract``, in each of the tenant's languages, in a pages section of its own that no menu
shows) begins as the
built-in text of :mod:`.document`; an editor changes it and a reviewer
publishes it through the content centre's review. Until a version is
published, contracts are drawn up from the built-in text. The page is made
once: edited, unpublished or deleted, it stays as the staff left it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ... import events
from ...content.models import ITEMS, ContentItem, ContentVersion, Section
from . import document

ACTOR = "system"
SECTION_SLUG = "contract-templates"
SECTION_NAMES = {"zh_Hant": "合同範本", "zh_Hans": "合同范本", "en": "Contract templates"}


def _section(session, tenant) -> Section:
    """The section the template pages are kept in: a pages section of its own, in no menu (the site's
    "pages" section lists the pages a visitor reads)."""
    section = session.scalars(
        sa.select(Section).where(Section.tenant_id == tenant.id, Section.slug == SECTION_SLUG)
    ).first()
    if section is None:
        section = Section(
            tenant_id=tenant.id, code=None, kind="pages", slug=SECTION_SLUG, names=dict(SECTION_NAMES), position=99
        )
        session.add(section)
        session.flush()
    return section


def ensure_defaults(session, tenant) -> None:
    """Make the tenant's contract template pages it lacks (one per language). Cheap when present (one
    query); takes the tenant's row lock before writing, so concurrent applies make them once."""
    from ...tenancy.models import Tenant

    def made() -> set[str]:
        return set(
            session.scalars(
                sa.select(ContentItem.locale).where(
                    ContentItem.tenant_id == tenant.id, ContentItem.template == document.SLUG
                )
            )
        )

    wanted = set(tenant.locales) & set(document.TEMPLATES)
    if wanted <= made():
        return
    session.scalars(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update(key_share=True)).first()
    have = made()
    section = _section(session, tenant)
    for locale in tenant.locales:
        if locale in have or locale not in wanted:
            continue
        title, body = document.TEMPLATES[locale]
        item = ContentItem(
            tenant_id=tenant.id,
            section=section,
            kind="page",
            slug=document.SLUG,
            template=document.SLUG,
            locale=locale,
            title=title,
            body=body,
            position=0,
            status=ITEMS.initial.value,
            author=ACTOR,
            version=1,
        )
        session.add(item)
        session.flush()
        session.add(
            ContentVersion(tenant_id=tenant.id, item_id=item.id, number=1, title=title, body=body, saved_by=ACTOR)
        )
    session.flush()


@events.listen("lendstack_tenant_applied")
def _contract_template(session, tenant_id, tenant, created):
    """Every applied tenant has its contract template pages."""
    ensure_defaults(session, tenant)
