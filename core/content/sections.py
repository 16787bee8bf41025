"""Managing sections (欄目): their names per language, address, order, and whether the menu or footer shows them.

A built-in section (news, media, industry, pages) keeps its address — links to it are everywhere — and
cannot be deleted; a section staff made can be, while it holds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa

from ..i18n import _
from .defaults import ensure_defaults
from .models import ContentItem, Section, SectionKind
from .services import ContentError

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
RESERVED = frozenset({"pages", "content", "items", "admin", "api", "account", "static", "media"})


def _on(form: dict, name: str) -> bool:
    return str(form.get(name, "")).lower() in ("on", "1", "true", "yes")


def sections(session, tenant) -> list[Section]:
    """The tenant's sections in their order (the built-in ones made first if it has none yet)."""
    ensure_defaults(session, tenant)
    return session.scalars(
        sa.select(Section).where(Section.tenant_id == tenant.id).order_by(Section.position, Section.id)
    ).all()


def save_section(
    session, tenant, form: dict, *, section: Section | None = None, taken: Callable[[str], bool] = lambda s: False
) -> Section:
    """Create or change a section from the form: ``name_<locale>`` per language, ``slug``, ``kind``,
    ``position``, ``in_menu``, ``in_footer``. ``taken(slug)``: whether another page of the site has that address."""
    names = {}
    for locale in tenant.locales:
        name = str(form.get(f"name_{locale}") or "").strip()
        if len(name) > 60:
            raise ContentError(f"name_{locale}", _("Use at most ${n} characters.", mapping={"n": 60}))
        if name:
            names[locale] = name
    if not names.get(tenant.default_locale):
        raise ContentError(f"name_{tenant.default_locale}", _("Name the section in the site's default language."))
    if section is None or section.code is None:
        slug = str(form.get("slug") or "").strip().lower()
        if not SLUG.match(slug):
            raise ContentError("slug", _("Give an address of 2 to 40 lowercase letters, digits and hyphens."))
        clash = sa.select(Section.id).where(Section.tenant_id == tenant.id, Section.slug == slug)
        if section is not None:
            clash = clash.where(Section.id != section.id)
        if slug in RESERVED or taken(slug) or session.scalars(clash).first() is not None:
            raise ContentError("slug", _("This address is taken: choose another."))
    else:
        slug = section.slug
    if section is None:
        kind = str(form.get("kind") or "")
        if kind not in tuple(SectionKind):
            raise ContentError("kind", _("Choose what the section holds."))
        section = Section(tenant_id=tenant.id, kind=kind)
        session.add(section)
    try:
        position = int(str(form.get("position") or 0))
    except ValueError:
        raise ContentError("position", _("Give the position as a whole number.")) from None
    if not -10_000 <= position <= 10_000:
        raise ContentError("position", _("Give the position as a whole number."))
    section.names, section.slug, section.position = names, slug, position
    section.in_menu, section.in_footer = _on(form, "in_menu"), _on(form, "in_footer")
    session.flush()
    return section


def delete_section(session, section: Section) -> None:
    if section.code is not None:
        raise ContentError("delete", _("A built-in section cannot be deleted: hide it from the menu instead."))
    held = session.scalar(
        sa.select(sa.func.count()).select_from(ContentItem).where(ContentItem.section_id == section.id)
    )
    if held:
        raise ContentError("delete", _("Move or delete the section's items first."))
    session.delete(section)
    session.flush()
