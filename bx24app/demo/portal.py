"""The portal side of the demo: a portal with a sales manager, the app installed exactly as Bitrix24 installs
it (an HTTP POST of the install parameters to our installer page), then the 1С connection configured."""

from __future__ import annotations

import requests
from django.conf import settings
from django.db import connection

from bx24app.models import Portal
from bx24app.services.portal_settings import portal_settings_update

ONEC_USER = ONEC_PASSWORD = "odata"  # the 1С emulator's publication user
DEMO_INTERVAL_MINUTES = 1


class DemoSetupError(Exception):
    pass


def portal_create(bitrix) -> tuple[dict, dict]:
    """A fresh emulated portal (administrator Анна) and a sales manager who will own the deals."""
    portal = bitrix.create_portal(license_family="project",
                                  admin={"NAME": "Анна", "LAST_NAME": "Админова", "EMAIL": "anna@example.com"})
    manager = bitrix.add_user(portal["member_id"], "Олег", "Продажин", "oleg@example.com", admin=False)
    return portal, manager


def app_install(bitrix, member_id: str) -> Portal:
    """What the portal does when the administrator installs the app: POST to the installer URL."""
    params = requests.post(f"{bitrix.base_url}/_emulator/portals/{member_id}/install-params", json={},
                           timeout=30).json()
    response = requests.post(f"{settings.APP_BASE_URL}/bitrix/install/", params=params["query"],
                             data=params["form"], timeout=120)
    if response.status_code != 200 or "installFinish" not in response.text:
        raise DemoSetupError(f"the installer answered {response.status_code}: {response.text[:500]}")
    return Portal.objects.get(member_id=member_id)


def onec_configure(portal: Portal, onec, manager: dict) -> None:
    """The 1С connection as the administrator enters it (the same service as the settings page and
    ``manage.py configure_portal``), deals owned by the manager, the schedule every minute."""
    portal_settings_update(portal, onec_url=onec.odata_url, onec_user=ONEC_USER, onec_password=ONEC_PASSWORD,
                           default_responsible_id=int(manager["ID"]), schedule_enabled=True,
                           interval_minutes=DEMO_INTERVAL_MINUTES)


def earlier_demo_portals_retire(bitrix_base_url: str) -> int:
    """Portals of earlier demo runs live in an emulator that is gone: stop scheduling them."""
    stale = Portal.objects.filter(client_endpoint__startswith=bitrix_base_url.rstrip("/") + "/").exclude(
        status=Portal.Status.UNINSTALLED)
    return stale.update(status=Portal.Status.UNINSTALLED,
                        status_reason="Демо-портал предыдущего запуска: его эмулятор остановлен.")


def database_describe() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite {db['NAME']}"
    return f"{connection.vendor} {db.get('HOST') or 'localhost'}:{db.get('PORT') or ''}/{db['NAME']}"
