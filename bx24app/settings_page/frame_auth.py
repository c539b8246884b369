"""Who is looking at the settings page, decided with the portal and carried as a signed per-frame token.

Launch (``POST /bitrix/app/`` from Bitrix24, placement ``DEFAULT``)
    The form carries ``member_id`` and ``AUTH_ID`` (the current user's access token, reference §1.2). Nothing
    in that form is trusted for identity: the portal must be known and active (by ``member_id``), and the
    token is checked **with the portal** — one ``batch`` call to the portal's *stored* ``client_endpoint``
    (never an address from the request) running ``user.current``, ``user.admin`` and ``app.info``. The user
    id and the admin flag come from the portal's answer; when ``app.info`` names the installation
    (``install.member_id``) it must be the portal we looked up, so a token of portal B cannot open portal A.

Frame token
    After a successful launch we issue a token signed with ``django.core.signing`` (salted, short TTL,
    ``FRAME_TOKEN_TTL`` seconds, default one hour — the lifetime of ``AUTH_ID``) that binds
    ``member_id`` + user id + the admin flag. Every later form POST carries it in the hidden field
    ``frame_token``, every AJAX call in the ``X-Frame-Token`` header. The token never travels in a cookie,
    so the page works when the browser blocks third-party cookies inside the Bitrix24 iframe.

CSRF (the choice, documented here as agreed)
    Cookies in a third-party iframe are unreliable (Safari/ITP and Chrome's third-party cookie controls drop
    them even with ``SameSite=None; Secure``), so Django's cookie-based CSRF check cannot be the mechanism
    for these views. They are ``csrf_exempt`` for the middleware and instead enforce the *synchronizer
    token* pattern with the frame token as the session substitute: a state-changing request must carry a
    valid, unexpired, correctly signed frame token **in the body or a header** (never a cookie, never the
    query string), which a cross-site attacker cannot read or forge; its signature binds it to one portal and
    one user. In addition, when the browser sends an ``Origin`` header on such a request it must be our own
    origin (the frame posts to itself). Only the launch POST comes from the portal's origin — it is
    authenticated by ``AUTH_ID`` verified with the portal, as above.

Permissions
    Everyone the portal frames the page for may *read* it. Changing settings is for portal administrators
    (``user.admin`` at launch) and for the users listed in «Кто может настраивать»
    (``PortalSettings.editor_user_ids``, re-read on every request so removing someone takes effect at once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core import signing

from bx24app.models import Portal, PortalSettings

log = logging.getLogger(__name__)

TOKEN_FIELD = "frame_token"
TOKEN_HEADER = "HTTP_X_FRAME_TOKEN"
_SALT = "bx24app.settings_page.frame"


def frame_token_ttl() -> int:
    return int(getattr(settings, "FRAME_TOKEN_TTL", 3600))


class FrameAuthError(Exception):
    """The request cannot be tied to a portal user; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FrameUser:
    """A portal user as the portal itself reported them at launch."""

    member_id: str
    user_id: int
    is_admin: bool
    name: str = ""
    lang: str = "ru"

    def can_edit(self, portal_settings: PortalSettings | None) -> bool:
        if self.is_admin:
            return True
        editors = (portal_settings.editor_user_ids if portal_settings else None) or []
        return self.user_id in {int(x) for x in editors if str(x).lstrip("-").isdigit()}


def issue_frame_token(user: FrameUser) -> str:
    payload = {"m": user.member_id, "u": user.user_id, "a": bool(user.is_admin), "n": user.name, "l": user.lang}
    return signing.dumps(payload, salt=_SALT, compress=True)


def read_frame_token(token: str) -> FrameUser:
    if not token:
        raise FrameAuthError("Сессия страницы не найдена: откройте приложение из Битрикс24 заново.", 403)
    try:
        data = signing.loads(token, salt=_SALT, max_age=frame_token_ttl())
    except signing.SignatureExpired:
        raise FrameAuthError("Сессия страницы истекла: откройте приложение из Битрикс24 заново.", 403) from None
    except signing.BadSignature:
        raise FrameAuthError("Недействительная сессия страницы.", 403) from None
    return FrameUser(member_id=str(data["m"]), user_id=int(data["u"]), is_admin=bool(data["a"]),
                     name=str(data.get("n", "")), lang=str(data.get("l", "ru")))


def active_portal(member_id: str) -> Portal:
    portal = Portal.objects.filter(member_id=member_id or "").first()
    if portal is None:
        raise FrameAuthError("Портал не найден: установите приложение заново.", 403)
    if portal.status == Portal.Status.UNINSTALLED:
        raise FrameAuthError("Приложение удалено с этого портала.", 403)
    return portal


def _token_from_request(request) -> str:
    return request.META.get(TOKEN_HEADER) or request.POST.get(TOKEN_FIELD) or ""


def _same_origin(request) -> bool:
    origin = request.META.get("HTTP_ORIGIN")
    if not origin or origin == "null":
        return True  # no Origin (older browsers, GET): the token alone decides
    ours = {f"{request.scheme}://{request.get_host()}"}
    base = urlsplit(getattr(settings, "APP_BASE_URL", ""))
    if base.scheme and base.netloc:
        ours.add(f"{base.scheme}://{base.netloc}")
    return origin in ours


def authenticate_frame_request(request) -> tuple[Portal, FrameUser]:
    """For every request after the launch: the signed frame token (body/header) → portal + user."""
    if request.method not in ("GET", "HEAD") and not _same_origin(request):
        raise FrameAuthError("Запрос с чужого сайта отклонён.", 403)
    user = read_frame_token(_token_from_request(request))
    portal = active_portal(user.member_id)
    return portal, user


# ---- launch ---------------------------------------------------------------------------------------------
def _portal_batch(portal: Portal, access_token: str, commands: dict) -> dict:
    if not portal.client_endpoint.startswith("https://") and not getattr(settings, "BITRIX24_ALLOW_HTTP", False):
        raise FrameAuthError("Портал подключён по незащищённому протоколу http://: приложение работает только по https://.",
                             403)
    url = portal.client_endpoint.rstrip("/") + "/batch.json"
    try:
        response = requests.post(
            url,
            json={"halt": 0, "cmd": commands, "auth": access_token},
            timeout=getattr(settings, "BITRIX24_HTTP_TIMEOUT", 30.0),
            headers={"User-Agent": getattr(settings, "BITRIX24_USER_AGENT", "bx24app")},
        )
    except requests.RequestException as error:
        log.warning("frame check: portal %s unreachable: %s", portal.member_id, error)
        raise FrameAuthError("Портал Битрикс24 недоступен, попробуйте позже.", 502) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "result" not in body:
        code = body.get("error", response.status_code)
        log.info("frame check rejected by portal %s: %s", portal.member_id, code)
        raise FrameAuthError("Портал не подтвердил пользователя: откройте приложение из Битрикс24 заново.", 403)
    return body["result"]


def verify_frame_launch(request) -> tuple[Portal, FrameUser]:
    """The POST Bitrix24 sends to the app page → (portal, user) confirmed by the portal."""
    member_id = request.POST.get("member_id", "")
    access_token = request.POST.get("AUTH_ID", "")
    if not member_id or not access_token:
        raise FrameAuthError("Откройте приложение из Битрикс24: нет параметров портала.", 400)
    portal = active_portal(member_id)
    if not portal.is_active and portal.status != Portal.Status.NEEDS_REAUTH:
        raise FrameAuthError("Портал неактивен.", 403)
    result = _portal_batch(portal, access_token, {"user": "user.current", "admin": "user.admin", "app": "app.info"})
    results = result.get("result") or {}
    errors = result.get("result_error") or {}
    current = results.get("user") if isinstance(results, dict) else None
    if not current or "user" in errors or not str(current.get("ID", "")).isdigit():
        raise FrameAuthError("Портал не подтвердил пользователя: откройте приложение из Битрикс24 заново.", 403)
    app = results.get("app") or {}
    install = app.get("install") if isinstance(app, dict) else None
    if isinstance(install, dict) and install.get("member_id") and install["member_id"] != portal.member_id:
        raise FrameAuthError("Токен выдан другим порталом.", 403)
    is_admin = results.get("admin") is True or str(results.get("admin")).lower() in ("true", "1", "y")
    name = " ".join(p for p in (current.get("NAME", ""), current.get("LAST_NAME", "")) if p).strip()
    user = FrameUser(member_id=portal.member_id, user_id=int(current["ID"]), is_admin=is_admin, name=name)
    return portal, user


def frame_ancestors(portal: Portal | None) -> str:
    sources = list(getattr(settings, "FRAME_ANCESTORS", []))
    if portal is not None and portal.domain:
        scheme = portal.protocol or "https"
        sources.append(f"{scheme}://{portal.domain}")
    return "frame-ancestors " + (" ".join(dict.fromkeys(sources)) or "'none'")
