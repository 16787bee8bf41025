"""The content centre (網站內容): sections, articles, pages and banners written, reviewed and published by staff.

Importing the package registers its listener (a new tenant gets the built-in sections and page templates).
"""

from . import defaults  # noqa: F401 - the lendstack_tenant_applied listener
