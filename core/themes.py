"""Per-tenant themes: template and static-file lookup through a fallback chain.

A theme is a folder of ``themes/`` holding ``templates/`` and ``static/``; it
contains only what it changes and falls back to ``default`` for the rest.
Pyramid's ``override_asset`` is install-wide, so lookup is done here per
request: views name a template (``renderer="portal/home.pt"``) and the
tenant's chain finds it. Templates use macros through the ``theme`` loader
they are given (``theme['layout.pt'].macros['page']``), never by a relative
``load:``, so a theme's own ``layout.pt`` always wins.
"""

from __future__ import annotations

import mimetypes
import threading
from functools import lru_cache
from pathlib import Path

from chameleon import PageTemplateFile, PageTemplateLoader, PageTextTemplateFile
from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationString
from pyramid.response import FileResponse

import themes as _themes_package

from .templating import TemplateHelpers

THEMES_DIR = Path(_themes_package.__file__).parent
DEFAULT_THEME = "default"
STATIC_MAX_AGE = 3600


def available_themes() -> list[str]:
    return sorted(
        p.name for p in THEMES_DIR.iterdir() if p.is_dir() and ((p / "templates").is_dir() or (p / "static").is_dir())
    )


def theme_chain(theme: str) -> list[Path]:
    """The folders searched for ``theme``: its own, then ``default``."""
    names = [theme] if theme == DEFAULT_THEME else [theme, DEFAULT_THEME]
    return [THEMES_DIR / name for name in names if (THEMES_DIR / name).is_dir()]


_COMPILING = threading.Lock()


class _CompiledPrograms:
    """The compiled programs of this process's templates, by chameleon's module name (the file's path and a digest
    of its source, its class and chameleon's version): a template file that several loaders reach (every theme
    falls back to ``default``, and an app made twice in one process has loaders of its own) compiles once.
    Chameleon's own choice is a fresh compile per template object (or a folder of modules on disk)."""

    def __init__(self):
        self._programs: dict[str, dict] = {}

    def get(self, name: str) -> dict | None:
        return self._programs.get(name)

    def build(self, source: str, name: str) -> dict:
        program: dict = {}
        exec(compile(source, name, "exec"), program)
        self._programs[name] = program
        return program


class _OneAtATime:
    """Compile (cook) one template at a time, whatever the number of threads asking: CPython 3.11's parser is not
    safe to run in two threads at once ("AST constructor recursion depth mismatch"), and a page's first requests
    after start-up arrive together. Compiled templates then render in parallel as before."""

    loader = _CompiledPrograms()

    def cook(self, body: str) -> None:
        with _COMPILING:
            super().cook(body)


class _PageTemplateFile(_OneAtATime, PageTemplateFile):
    pass


class _PageTextTemplateFile(_OneAtATime, PageTextTemplateFile):
    pass


TEMPLATE_FORMATS = {"xml": _PageTemplateFile, "text": _PageTextTemplateFile}


class ThemeSet:
    """Template loaders per theme, plus template folders that plugins add."""

    def __init__(self, auto_reload: bool = False):
        self.auto_reload = auto_reload
        self.extra_template_dirs: list[Path] = []
        self.extra_static_dirs: list[Path] = []

    @lru_cache(maxsize=None)
    def loader(self, theme: str) -> PageTemplateLoader:
        paths = [str(p / "templates") for p in theme_chain(theme)]
        paths += [str(p) for p in self.extra_template_dirs]
        return PageTemplateLoader(
            search_path=paths,
            auto_reload=self.auto_reload,
            prepend_relative_search_path=False,
            formats=TEMPLATE_FORMATS,
        )

    def find_static(self, theme: str, path: str) -> Path | None:
        roots = [p / "static" for p in theme_chain(theme)] + self.extra_static_dirs
        for root in roots:
            candidate = (root / path).resolve()
            if candidate.is_file() and candidate.is_relative_to(root.resolve()):
                return candidate
        return None


def request_theme(request) -> str:
    tenant = getattr(request, "tenant", None)
    return tenant.theme if tenant is not None else DEFAULT_THEME


def translator(request):
    localizer = request.localizer

    def translate(msgid, domain=None, mapping=None, context=None, target_language=None, default=None):
        if not isinstance(msgid, TranslationString):
            msgid = TranslationString(msgid, domain=domain, default=default, mapping=mapping)
        return localizer.translate(msgid)

    return translate


class ThemeRenderer:
    """Pyramid renderer for ``*.pt`` names, resolved through the request's theme chain."""

    def __init__(self, info):
        self.name = info.name

    def __call__(self, value, system):
        request = system["request"]
        themeset: ThemeSet = request.registry["themes"]
        loader = themeset.loader(request_theme(request))
        template = loader[self.name]
        values = dict(system)
        values.update(template_globals(request, loader))
        values.update(value or {})
        return template.render(translate=translator(request), target_language=request.locale_name, **values)


def template_globals(request, loader) -> dict:
    return {"theme": loader, "h": TemplateHelpers(request), "tenant": request.tenant}


def static_view(request):
    """Serve ``/static/<path>`` from the tenant's theme chain (and plugins' static folders)."""
    themeset: ThemeSet = request.registry["themes"]
    path = request.matchdict["path"]
    found = themeset.find_static(request_theme(request), path)
    if found is None:
        raise HTTPNotFound()
    content_type, _ = mimetypes.guess_type(found.name)
    response = FileResponse(str(found), request=request, content_type=content_type)
    response.cache_control.max_age = STATIC_MAX_AGE
    response.cache_control.public = True
    return response


def add_theme_templates(config, path) -> None:
    """Directive for plugins: add a folder searched after the theme chain for templates."""
    config.registry["themes"].extra_template_dirs.append(Path(path))
    config.registry["themes"].loader.cache_clear()


def add_theme_static(config, path) -> None:
    """Directive for plugins: add a folder served under ``/static/`` after the theme chain."""
    config.registry["themes"].extra_static_dirs.append(Path(path))


def includeme(config):
    """The ``.pt`` renderer through the tenant's theme chain, ``/static/``, and the template helpers' directives."""
    settings = config.registry.settings_obj
    config.include(".templating")  # add_labels: domains included after this register the labels pages show
    config.registry["themes"] = ThemeSet(auto_reload=settings.reload_templates)
    config.add_renderer(".pt", ThemeRenderer)
    config.add_directive("add_theme_templates", add_theme_templates)
    config.add_directive("add_theme_static", add_theme_static)
    config.add_route("static", "/static/{path:.+}")
    config.add_view(static_view, route_name="static", http_cache=STATIC_MAX_AGE)
    mimetypes.add_type("image/svg+xml", ".svg")
    mimetypes.add_type("text/css", ".css")
