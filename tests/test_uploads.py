"""Uploaded files (logo, favicon): accepted by their bytes only, kept per tenant, served from /media to their
own tenant's hosts with their type."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.domain import DomainError
from core.tenancy.services import tenant_by_slug
from core.uploads import bytes_used, check_image, file_path, store


def image(format: str, size=(12, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 60)).save(out, format=format)
    return out.getvalue()


@pytest.mark.parametrize(
    "format, ext, content_type",
    [
        ("PNG", "png", "image/png"),
        ("JPEG", "jpg", "image/jpeg"),
        ("GIF", "gif", "image/gif"),
        ("WEBP", "webp", "image/webp"),
    ],
)
def test_a_logo_is_accepted_by_its_bytes_and_named_by_its_real_type(format, ext, content_type):
    checked = check_image(image(format), "logo", "branding.logo")
    assert (checked.ext, checked.content_type) == (ext, content_type)
    assert checked.url == f"/media/{checked.key}.{ext}" and len(checked.key) == 32


def test_an_ico_is_a_favicon_but_not_a_logo():
    data = image("ICO", (16, 16))
    assert check_image(data, "favicon", "branding.favicon").content_type == "image/x-icon"
    with pytest.raises(DomainError) as refused:
        check_image(data, "logo", "branding.logo")
    assert refused.value.field == "branding.logo"


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a but then just text",  # a signature with nothing behind it
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64,  # a PNG signature and garbage
        b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"  <svg><script>alert(1)</script></svg>",
        b"%PDF-1.7\n",
        b"",
    ],
)
def test_anything_but_a_whole_image_of_an_accepted_type_is_refused(data):
    with pytest.raises(DomainError) as refused:
        check_image(data, "logo", "branding.logo")
    assert refused.value.field == "branding.logo"


def test_an_image_too_large_in_pixels_is_refused_even_when_the_file_is_small():
    with pytest.raises(DomainError) as refused:
        check_image(image("PNG", (5000, 10)), "logo", "branding.logo")
    assert "4096" in refused.value.message.interpolate()


def test_stored_files_are_served_to_their_own_tenant_only(client, db, tenants, wsgi_app):
    settings = wsgi_app.registry.settings_obj
    data = image("GIF")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        row = store(session, settings, demo.id, check_image(data, "logo", "branding.logo"), by="test")
        url, key, demo_id = row.url, row.key, demo.id
        assert bytes_used(session, demo_id) == len(data)
        assert bytes_used(session, tenant_by_slug(session, "acme").id) == 0
    assert file_path(settings, demo_id, key).read_bytes() == data
    served = client.get("demo.localhost", url)
    assert served.body == data and served.content_type == "image/gif"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    assert client.app.head(url, headers={"Host": "demo.localhost"}).status_int == 200
    client.get("acme.localhost", url, status=404)  # another tenant's host: as if it did not exist
    client.get("demo.localhost", f"/media/{key}.png", status=404)  # the wrong extension
    client.get("demo.localhost", f"/media/{key}", status=404)
    client.get("demo.localhost", "/media/..%2F..%2Fetc%2Fpasswd", status=404)
    client.get("demo.localhost", "/media/" + "0" * 32 + ".gif", status=404)
    client.get("operator.localhost", url, status=404)
