"""The built wheel, installed without ``-e``, runs the site: every file the app reads ships in it.

The sdist and wheel are built from a copy of the checkout (the files git knows,
new ones included), with the catalogs compiled as ``make catalogs`` does. The
wheel goes into a scratch virtualenv with plain ``pip install``; that
environment borrows the project virtualenv's dependencies but never its
editable installs, so ``core`` is imported from the wheel. The site is then
migrated, given the manifests shipped in the wheel, and asked for pages, static
files and the API from the shipped ``development.ini`` — in the scratch
interpreter, as an operator's install would run it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from babel.messages import mofile, pofile

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "plugins", "tenants", "cli", "themes")
COMMAND_TIMEOUT = 120


def run(args, *, cwd, env=None) -> subprocess.CompletedProcess:
    """Run a command to completion; its output is kept for the failure message."""
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )


def succeeded(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (
        f"{' '.join(result.args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def checkout_files() -> list[str]:
    """The files a clean clone plus the work in progress would hold: tracked and new, not ignored."""
    if shutil.which("git") is None:
        pytest.skip("the wheel is checked against `git ls-files`, and git is not installed")
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT)
    if listed.returncode != 0:
        pytest.skip(f"the wheel is checked against `git ls-files`, and {ROOT} is not a git checkout")
    return sorted(name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file())


def package_files(names) -> set[str]:
    return {n for n in names if n.split("/", 1)[0] in PACKAGES and "__pycache__" not in n}


def compile_catalogs(tree: Path) -> None:
    """What ``make catalogs`` does (``pybabel compile --use-fuzzy``), so the wheel carries the ``.mo`` files."""
    for po in tree.glob("themes/*/locale/*/LC_MESSAGES/*.po"):
        with po.open("rb") as source:
            catalog = pofile.read_po(source)
        with po.with_suffix(".mo").open("wb") as target:
            mofile.write_mo(target, catalog, use_fuzzy=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sdist, wheel, build output, the checkout's file list) built from a copy of the checkout."""
    if importlib.util.find_spec("build") is None:
        pytest.skip(
            "cannot build the wheel: the `build` front-end is not installed "
            "(it is in the test extra: pip install -e '.[test]')"
        )
    files = checkout_files()
    base = tmp_path_factory.mktemp("wheel")
    source, dist = base / "source", base / "dist"
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    compile_catalogs(source)
    # --no-isolation: build with this virtualenv's setuptools and wheel, offline.
    result = succeeded(run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source], cwd=base))
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    return sdist, wheel, result.stdout + result.stderr, files


def borrowed_site_packages(into: Path) -> Path:
    """A folder of links to this virtualenv's installed distributions, minus Lendstack and editable installs."""
    into.mkdir()
    for folder in dict.fromkeys(map(Path, (sysconfig.get_path("purelib"), sysconfig.get_path("platlib")))):
        for entry in folder.iterdir():
            if not (into / entry.name).exists() and not _project_or_editable(entry):
                (into / entry.name).symlink_to(entry)
    return into


def _project_or_editable(entry: Path) -> bool:
    name = entry.name
    if name.startswith("__editable__") or name.endswith(".egg-link") or name in PACKAGES:
        return True
    if name.endswith(".dist-info"):
        if name.split("-", 1)[0].lower() == "lendstack":
            return True
        direct_url = entry / "direct_url.json"
        if direct_url.is_file():
            return json.loads(direct_url.read_text()).get("dir_info", {}).get("editable", False)
    return False


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """A scratch virtualenv with the wheel installed by plain ``pip install``: (python, site-packages, env)."""
    _sdist, wheel, _output, _files = built
    base = tmp_path_factory.mktemp("scratch")
    venv = base / "venv"
    succeeded(run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base))
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    site_packages = Path(
        succeeded(
            run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=base, env=env)
        ).stdout.strip()
    )
    # The dependencies come from the project virtualenv, after the wheel on sys.path; its
    # editable hooks stay out, or the checkout would answer the imports instead of the wheel.
    borrowed = borrowed_site_packages(base / "borrowed")
    (site_packages / "lendstack_test_dependencies.pth").write_text(f"import site; site.addsitedir({str(borrowed)!r})\n")
    succeeded(
        run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--no-index",
                "--disable-pip-version-check",
                "--quiet",
                wheel,
            ],
            cwd=base,
            env=env,
        )
    )
    return python, site_packages, env


def test_building_warns_of_no_ignored_package(built):
    """Every folder of the packages is declared, so setuptools has nothing to warn of (``make install`` stays quiet)."""
    _sdist, _wheel, output, _files = built
    warned = [
        line.strip()
        for line in output.splitlines()
        if "would be ignored" in line or "absent from the `packages` configuration" in line
    ]
    assert warned == []


def test_sdist_holds_the_sources_and_compiled_catalogs(built):
    sdist, _wheel, _output, files = built
    with tarfile.open(sdist) as archive:
        held = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = package_files(files) | {"setup.cfg", "pyproject.toml", "README.md", "development.ini"}
    expected |= {f"{po[:-3]}.mo" for po in files if po.endswith(".po")}
    assert sorted(expected - held) == []


def test_wheel_holds_every_file_the_app_reads(built):
    _sdist, wheel, _output, files = built
    with zipfile.ZipFile(wheel) as archive:
        held = set(archive.namelist())
    missing = sorted(package_files(files) - held)
    assert missing == [], (
        "files under the packages that the wheel leaves out: add a glob to [options.package_data] "
        f"in setup.cfg: {missing}"
    )
    catalogs = sorted(f"{po[:-3]}.mo" for po in files if po.startswith("themes/") and po.endswith(".po"))
    assert catalogs and sorted(set(catalogs) - held) == []
    outside = sorted(n for n in held if n.split("/", 1)[0] not in PACKAGES and ".dist-info/" not in n)
    assert outside == [], f"the wheel carries files outside the packages: {outside}"
    assert [n for n in held if "__pycache__" in n or n.endswith(".pyc")] == []


def test_installed_wheel_is_what_python_imports(installed, tmp_path):
    python, site_packages, env = installed
    probe = succeeded(
        run(
            [
                python,
                "-c",
                textwrap.dedent("""
        import json, sys
        import cli, core, core.loans, plugins, tenants, themes
        from importlib.metadata import distribution
        print(json.dumps({
            "files": [m.__file__ for m in (cli, core, core.loans, plugins, tenants, themes)],
            "editable": [p for p in sys.path + list(sys.modules) if "__editable__" in p],
            "direct_url": distribution("lendstack").read_text("direct_url.json"),
        }))
    """),
            ],
            cwd=tmp_path,
            env=env,
        )
    )
    found = json.loads(probe.stdout)
    assert [f for f in found["files"] if not Path(f).is_relative_to(site_packages)] == []
    assert found["editable"] == []
    assert found["direct_url"] is None or '"editable": true' not in found["direct_url"]


BOOT = textwrap.dedent("""
    import json, sys
    from pyramid.paster import get_app
    from webtest import TestApp

    app = TestApp(get_app(sys.argv[1]))
    answers = {}
    for host in ("demo.localhost", "acme.localhost"):
        environ = {"HTTP_HOST": host}
        home = app.get("/", extra_environ=environ, expect_errors=True)
        css = app.get("/static/css/theme.css", extra_environ=environ, expect_errors=True)
        tools = app.get("/api/v1/tools", extra_environ=environ, expect_errors=True)
        answers[host] = {
            "home": [home.status_int, home.text],
            "css": [css.status_int, css.content_type, css.body.decode()],
            "tools": [tools.status_int, tools.json if tools.content_type.endswith("json") else tools.text],
        }
    spec = app.get("/api/v1/openapi.json", extra_environ={"HTTP_HOST": "demo.localhost"}, expect_errors=True)
    answers["spec"] = [spec.status_int, sorted(spec.json) if spec.status_int == 200 else spec.text]
    print(json.dumps(answers))
""")


def translation(locale: str, msgid: str) -> str:
    """The checkout's catalog entry, read here rather than through the product."""
    path = ROOT / "themes" / "default" / "locale" / locale / "LC_MESSAGES" / "lendstack.po"
    with path.open("rb") as source:
        return pofile.read_po(source)[msgid].string


def test_installed_wheel_migrates_takes_the_shipped_tenants_and_serves_them(installed, tmp_path):
    python, site_packages, env = installed
    lendstack = python.parent / "lendstack"
    ini = tmp_path / "development.ini"
    shutil.copy(ROOT / "development.ini", ini)

    succeeded(run([lendstack, "db", "upgrade", "-c", ini], cwd=tmp_path, env=env))
    manifests = sorted((site_packages / "tenants").glob("*.toml"))
    assert [m.name for m in manifests] == ["acme.toml", "demo.toml"]
    applied = succeeded(run([lendstack, "tenant", "apply", "-c", ini, *manifests], cwd=tmp_path, env=env))
    assert "created tenant demo" in applied.stdout and "created tenant acme" in applied.stdout

    script = tmp_path / "boot.py"
    script.write_text(BOOT)
    answers = json.loads(succeeded(run([python, script, ini], cwd=tmp_path, env=env)).stdout)
    demo, acme = answers["demo.localhost"], answers["acme.localhost"]

    assert demo["home"][0] == 200 and acme["home"][0] == 200
    assert "鼎信網貸" in demo["home"][1] and translation("zh_Hant", "Sign in") in demo["home"][1]
    assert "Acme Lending" in acme["home"][1] and "Sign in" in acme["home"][1]
    assert "Acme Lending" not in demo["home"][1] and "鼎信網貸" not in acme["home"][1]

    # Each tenant's theme chain, read from the installed files: classic for acme, default for demo.
    themes = site_packages / "themes"
    assert demo["css"][:2] == [200, "text/css"] and acme["css"][:2] == [200, "text/css"]
    assert demo["css"][2] == (themes / "default" / "static" / "css" / "theme.css").read_text()
    assert acme["css"][2] == (themes / "classic" / "static" / "css" / "theme.css").read_text()

    assert demo["tools"][0] == 200 and acme["tools"][0] == 200
    assert demo["tools"][1]["currency"] == "CNY" and acme["tools"][1]["currency"] == "USD"
    assert acme["tools"][1]["methods"] and demo["tools"][1]["methods"]
    assert answers["spec"][0] == 200 and "paths" in answers["spec"][1]
