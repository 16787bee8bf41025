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
            offences += [
                f"{path.relative_to(ROOT)} imports {n}"
                for n in names
                if n.split(".")[0] in {"plugins", "cli", "tenants"}
            ]
    assert offences == []


def test_plugins_use_only_the_public_core_api():
    import core

    offences = []
    for path in list((ROOT / "plugins").rglob("*.py")) + list((ROOT / "examples").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core"):
                if node.module != "core":
                    offences.append(f"{path.relative_to(ROOT)} imports {node.module}")
                offences += [
                    f"{path.relative_to(ROOT)} imports core.{a.name}" for a in node.names if a.name not in core.__all__
                ]
    assert offences == []


def _module_level_functions(path):
    return [
        node.name
        for node in ast.parse(path.read_text()).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def test_no_module_in_core_answers_attributes_dynamically():
    """A module-level ``__getattr__`` (PEP 562) hides where a name lives: import it from its module."""
    offences = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if "__getattr__" in _module_level_functions(path)
    ]
    assert offences == []


def test_no_core_module_imports_another_modules_private_names():
    """A helper two modules need is public in a module both import (``_`` is the translation function)."""
    offences = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                offences += [
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and a.name != "_" and not a.name.startswith("__")
                ]
    assert offences == []


def test_views_take_no_row_locks():
    """State-changing services lock what they change (``core.loans.locked_loan`` and the like); views do not."""
    views = [
        p
        for p in (ROOT / "core").rglob("*.py")
        if p.name == "views.py" or p.parent.name in {"api", "admin", "portal", "operator"}
    ]
    offences = [str(path.relative_to(ROOT)) for path in views if "with_for_update" in path.read_text()]
    assert offences == []


# Message delivery states (SMS and mail outboxes) are not lifecycles with a transition table yet.
STATUS_LITERALS_ALLOWED = {"core/sms.py", "core/mail.py"}


def _status_literals(tree):
    """Line numbers where a string literal is written to a ``status``: ``x.status = "…"`` (also in a tuple
    assignment), ``setattr(x, "status", "…")`` or a ``status="…"`` keyword (``update().values(status="…")``)."""

    def literal(node):
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    def to_status(node):
        return isinstance(node, ast.Attribute) and node.attr == "status"

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if to_status(target) and literal(node.value):
                    yield node.lineno
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    yield from (
                        node.lineno for t, v in zip(target.elts, node.value.elts) if to_status(t) and literal(v)
                    )
        elif isinstance(node, ast.Call):
            if (
                isinstance(node.func, ast.Name)
                and node.func.id == "setattr"
                and len(node.args) == 3
                and literal(node.args[1])
                and node.args[1].value == "status"
                and literal(node.args[2])
            ):
                yield node.lineno
            yield from (node.lineno for k in node.keywords if k.arg == "status" and literal(k.value))


def test_statuses_change_only_through_their_state_machine():
    """Every lifecycle status is set by ``StateMachine.move`` (core/states.py), never as a bare string."""
    offences = []
    for path in (ROOT / "core").rglob("*.py"):
        name = str(path.relative_to(ROOT))
        if name in STATUS_LITERALS_ALLOWED or "/migrations/" in name:
            continue
        offences += [
            f"{name}:{line} writes a string literal to a status"
            for line in _status_literals(ast.parse(path.read_text()))
        ]
    assert offences == []


def test_the_status_literal_check_finds_each_form():
    code = (
        'loan.status = "full"\nloan.status, loan.note = "rejected", note\nsetattr(bid, "status", "accepted")\n'
        'sa.update(Payback).values(status="written_off")\nLOANS.move(loan, LoanStatus.FULL)\n'
    )
    assert list(_status_literals(ast.parse(code))) == [1, 2, 3, 4]
