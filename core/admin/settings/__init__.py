"""The back office's settings: branding, lending and funds parameters, menus, versions (/admin/settings).

Every save edits the tenant's manifest data and hands it to :func:`core.tenancy.manifest.change`, the one
path every change of a tenant takes (``lendstack tenant apply``, the operator console, the API): validated
whole, applied, versioned and told to the tenant's plugins. A refusal names the manifest path at fault
(``branding.primary_color``); the pages name their inputs after those paths, so the message shows by its
field. Each save is audited with its changes as ``{path: value}`` before and after.

One module a page: :mod:`.hub` (the list of sections), :mod:`.branding`, :mod:`.parameters`, :mod:`.menus`
and :mod:`.versions` (the versions, one version and its restore, the manifest download); :mod:`.common` holds
the save path they share and :mod:`.names` the readable names of manifest paths and of the ways a version was
made. The plugins' page is :mod:`core.admin.plugins`.
"""

from __future__ import annotations

from .menus import nav_keys

__all__ = ["nav_keys"]
