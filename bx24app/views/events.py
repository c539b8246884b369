"""The event handler (POST /bitrix/events/): ONAPPINSTALL, ONAPPUNINSTALL, ONCRMDEALUPDATE."""

import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bx24app.services.application_token import portal_authenticate_call
from bx24app.services.install import InstallError, install_params_from_event, portal_install
from bx24app.services.portal_events import deal_update_enqueue, portal_uninstall

from .payload import form_group

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def bitrix_event(request):
    event = str(request.POST.get("event", "")).upper()
    auth = form_group(request.POST, "auth")
    if event == "ONAPPINSTALL":
        return _app_installed(auth)
    portal = portal_authenticate_call(auth.get("member_id"), auth.get("application_token"))
    if portal is None:
        log.warning("event %s refused: unknown portal or wrong application token", event)
        return HttpResponse("Unauthorized", status=401)
    if event == "ONAPPUNINSTALL":
        portal_uninstall(portal)
    elif event == "ONCRMDEALUPDATE":
        deal_update_enqueue(portal, _deal_id(request.POST.get("data[FIELDS][ID]")))
    return HttpResponse("OK")


def _app_installed(auth: dict) -> HttpResponse:
    """Tokens may arrive by ONAPPINSTALL: verified at the OAuth server exactly like the installer POST."""
    try:
        portal_install(install_params_from_event(auth))
    except InstallError as error:
        log.warning("ONAPPINSTALL refused: %s", error)
        return HttpResponse("Unauthorized", status=401)
    return HttpResponse("OK")


def _deal_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
