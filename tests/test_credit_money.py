import re, collections
from tests.helpers import staff_client
from tests.test_credit_isolation import PAGES, POST_ONLY, _demo_world, _count_rows

HOSTILE = ["1e999", "99999999999999999999", "-1", "NaN", "0.001", "x" * 5000, "𝕏ü中\u202e", "", "' OR 1=1 --", "2026-02-30", "2147483648", "9223372036854775808", "\x00"]
EXTRA = ["/admin/credit/customers/new/individual", "/admin/credit/customers/new/corporate", "/admin/credit/applications/new", "/admin/credit/products/new", "/admin/credit/lending-fund", "/admin/credit/ratings", "/admin/credit/models", "/admin/credit/workflows", "/admin/credit/contracts", "/admin/credit/disbursements", "/admin/credit/products"]

def test_probe(client, tenants, wsgi_app, db):
    world = _demo_world(client, wsgi_app, db)
    admin = staff_client(wsgi_app, db, "p-admin", "administrator")
    paths = [p.format(**world) for n, p in PAGES.items() if n not in POST_ONLY] + EXTRA
    seen = collections.Counter()
    for path in paths:
        page = admin.get("demo.localhost", path)
        if "html" not in page.content_type: continue
        for form in page.forms.values():
            if form.method.lower() != "post" or "csrf_token" not in form.fields or form.action.endswith("logout"):
                continue
            base = {}
            buttons = []
            for name, fields in form.fields.items():
                for f in fields:
                    tag = type(f).__name__
                    if tag == "Submit":
                        if f.name: buttons.append((f.name, f._value))
                    elif tag == "File":
                        continue
                    elif tag == "Checkbox":
                        if f.checked: base[name] = f._value or "on"
                    else:
                        base.setdefault(name, f.value or "")
            action = form.action or path
            for button in buttons or [None]:
                for field in [k for k in base if k != "csrf_token"]:
                    for value in HOSTILE:
                        before = _count_rows(db)
                        body = dict(base); body[field] = value
                        if button: body[button[0]] = button[1]
                        a = admin.post("demo.localhost", action, body, status="*", expect_errors=True)
                        seen[(a.status_int)] += 1
                        if a.status_int >= 500 or a.status_int == 200:
                            print("BAD", a.status_int, action, button, field, repr(value[:20]))
                        elif a.status_int == 303:
                            print("OK303", action, button, field, repr(value[:12]))
                        elif a.status_int >= 400 and _count_rows(db) != before:
                            print("CHANGED", a.status_int, action, button, field, repr(value[:20]))
    print(seen)
