"""Reading Bitrix24's PHP-style form posts (``auth[member_id]``, ``document_id[2]``) and framing headers."""

from django.conf import settings


def form_group(data, name: str) -> dict:
    """The ``name[...]`` keys of a form as a flat dict: ``auth[member_id]`` → ``{"member_id": …}``."""
    prefix = f"{name}["
    return {key[len(prefix):-1]: data.get(key) for key in data if key.startswith(prefix) and key.endswith("]")}


def frame_ancestors_header(portal_origin: str | None) -> str:
    """CSP allowing only Bitrix24 (and the portal itself) to frame our page."""
    sources = list(settings.FRAME_ANCESTORS)
    if portal_origin and portal_origin not in sources:
        sources.append(portal_origin)
    return "frame-ancestors " + " ".join(sources)
