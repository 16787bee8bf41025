"""Rules of the code base that a reviewer should not have to check by eye."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
MONEY_PATHS = ["core", "plugins", "examples"]


def python_files():
    for folder in MONEY_PATHS:
        yield from (p for p in (ROOT / folder).rglob("*.py") if "/tests/" not in str(p))


def test_no_float_anywhere_in_money_code():
    offences = []
    for path in python_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "float":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} uses float")
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} has a float literal")
            if isinstance(node, ast.Attribute) and node.attr in {"Float", "REAL"}:
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} uses a float column")
    assert offences == []


def test_core_never_imports_plugins_cli_or_tenants():
    offences = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offences += [f"{path.relative_to(ROOT)} imports {n}" for n in names
                         if n.split(".")[0] in {"plugins", "cli", "tenants"}]
    assert offences == []


def test_plugins_use_only_the_public_core_api():
    import core

    offences = []
    for path in list((ROOT / "plugins").rglob("*.py")) + list((ROOT / "examples").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core"):
                if node.module != "core":
                    offences.append(f"{path.relative_to(ROOT)} imports {node.module}")
                offences += [f"{path.relative_to(ROOT)} imports core.{a.name}"
                             for a in node.names if a.name not in core.__all__]
    assert offences == []


def _module_level_functions(path):
    return [node.name for node in ast.parse(path.read_text()).body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_module_in_core_answers_attributes_dynamically():
    """A module-level ``__getattr__`` (PEP 562) hides where a name lives: import it from its module."""
    offences = [str(path.relative_to(ROOT)) for path in (ROOT / "core").rglob("*.py")
                if "__getattr__" in _module_level_functions(path)]
    assert offences == []


def test_no_core_module_imports_another_modules_private_names():
    """A helper two modules need is public in a module both import (``_`` is the translation function)."""
    offences = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                offences += [f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{a.name}"
                             for a in node.names if a.name.startswith("_") and a.name != "_"
                             and not a.name.startswith("__")]
    assert offences == []


def test_views_take_no_row_locks():
    """State-changing services lock what they change (``core.loans.locked_loan`` and the like); views do not."""
    views = [p for p in (ROOT / "core").rglob("*.py")
             if p.name == "views.py" or p.parent.name in {"api", "admin", "portal", "operator"}]
    offences = [str(path.relative_to(ROOT)) for path in views if "with_for_update" in path.read_text()]
    assert offences == []
