"""``GET /demo/open-app/``: open the settings page the way the portal's frame opens it — a POST to
``/bitrix/app/`` carrying fresh frame parameters (DOMAIN, AUTH_ID, member_id, …) issued by the emulated portal."""

from urllib.parse import urlencode

import requests
from django.conf import settings
from django.http import HttpResponse
from django.utils.html import format_html, format_html_join

from bx24app.models import Portal

PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Открываю приложение…</title></head>
<body><p>Открываю страницу приложения так, как ее открывает портал Битрикс24…</p>
<form id="frame" method="post" action="{}">{}<noscript><button>Открыть</button></noscript></form>
<script>document.getElementById("frame").submit();</script></body></html>"""


def open_app(request):
    portal = Portal.objects.filter(status=Portal.Status.ACTIVE).order_by("-installed_at").first()
    if portal is None:
        return _text("Демо-портал еще не установлен: дождитесь установки приложения.", 503)
    emulator = settings.BITRIX24_OAUTH_SERVERS[0]
    body = {"placement": "DEFAULT"}
    if request.GET.get("user_id", "").isdigit():
        body["user_id"] = int(request.GET["user_id"])
    try:
        response = requests.post(f"{emulator}/_emulator/portals/{portal.member_id}/install-params", json=body,
                                 timeout=30)
    except requests.RequestException as exc:
        return _text(f"Эмулятор портала не отвечает: {exc}", 502)
    if response.status_code != 200:
        return _text(f"Эмулятор портала не выдал параметры фрейма: {response.text[:300]}", 502)
    params = response.json()
    fields = format_html_join("", '<input type="hidden" name="{}" value="{}">', sorted(params["form"].items()))
    return HttpResponse(format_html(PAGE, f"/bitrix/app/?{urlencode(params['query'])}", fields))


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
