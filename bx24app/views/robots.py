"""The payment robot handler (POST /bitrix/robots/payment-notify/), USE_SUBSCRIPTION=N: answer 200 and go."""

import logging
import re

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bx24app.services.application_token import portal_authenticate_call
from bx24app.services.payment_notify import deal_payment_notify_enqueue

from .payload import form_group

log = logging.getLogger(__name__)
DEAL_DOCUMENT = re.compile(r"^DEAL_(\d+)$")


@csrf_exempt
@require_POST
def payment_notify_robot(request):
    auth = form_group(request.POST, "auth")
    portal = portal_authenticate_call(auth.get("member_id"), auth.get("application_token"))
    if portal is None:
        log.warning("robot call refused: unknown portal or wrong application token")
        return HttpResponse("Unauthorized", status=401)
    match = DEAL_DOCUMENT.match(str(form_group(request.POST, "document_id").get("2") or ""))
    if match:
        message = str(request.POST.get("properties[message]") or "").strip()
        deal_payment_notify_enqueue(portal, int(match.group(1)), source="robot", message=message)
    return HttpResponse("OK")
