"""Authenticating calls from Bitrix24 (events, robots) by the portal's application token, in constant time."""

import hmac

from bx24app.models import Portal

_NO_TOKEN = "no-application-token-stored-for-this-member-id"


def portal_authenticate_call(member_id: str, application_token: str) -> Portal | None:
    """The portal whose stored application token equals the one presented, else None (unknown or forged).

    The comparison runs even for an unknown member_id, so timing does not tell which portals exist.
    """
    portal = Portal.objects.filter(member_id=str(member_id or "")).first() if member_id else None
    stored = (portal.application_token if portal else "") or _NO_TOKEN
    matches = hmac.compare_digest(stored.encode(), str(application_token or "").encode())
    return portal if (portal is not None and matches and portal.application_token) else None
