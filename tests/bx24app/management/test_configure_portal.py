"""`manage.py configure_portal`: saves the settings, checks 1С (the 1С emulator) and explains failures."""

import io

import pytest
from django.core.management import CommandError, call_command

from bx24app.bitrix.client import BitrixClient
from bx24app.models import PortalSettings
from emulators.onec import OneCEmulator
from tests.bx24app.conftest import portal_state, raw_column

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def onec():
    emulator = OneCEmulator(port=0, size="small", seed=1, user="odata", password="odata").start()
    yield emulator
    emulator.stop()


def _configure(member_id, onec, *extra, password="odata"):
    out = io.StringIO()
    call_command("configure_portal", member_id, "--onec-url", onec.odata_url, "--onec-user", "odata",
                 "--onec-password", password, *extra, stdout=out)
    return out.getvalue()


def test_settings_are_saved_and_the_1c_connection_is_reported(installed_portal, onec):
    output = _configure(installed_portal.member_id, onec, "--sale-price-type", "Оптовая",
                        "--purchase-price-type", "Закупочная", "--interval", "15")

    assert "успешно" in output and "Контрагентов" in output and "Типы цен" in output
    saved = PortalSettings.objects.get(portal=installed_portal)
    assert (saved.onec_url, saved.onec_user, saved.onec_password) == (onec.odata_url, "odata", "odata")
    assert (saved.sale_price_type, saved.purchase_price_type, saved.interval_minutes) == ("Оптовая", "Закупочная", 15)
    assert raw_column("bx24app_portalsettings", "onec_password", saved.pk).startswith("enc1:")


def test_a_failed_1c_check_exits_with_the_precise_message(installed_portal, onec):
    with pytest.raises(CommandError) as error:
        _configure(installed_portal.member_id, onec, password="wrong")
    assert "1С" in str(error.value)


def test_an_unknown_price_type_is_named(installed_portal, onec):
    with pytest.raises(CommandError) as error:
        _configure(installed_portal.member_id, onec, "--sale-price-type", "Нет такой")
    assert "Нет такой" in str(error.value) and "Оптовая" in str(error.value)


def test_invalid_settings_are_refused_in_russian(installed_portal, onec):
    with pytest.raises(CommandError) as error:
        _configure(installed_portal.member_id, onec, "--interval", "0")
    assert "Интервал синхронизации" in str(error.value)
    assert PortalSettings.objects.get(portal=installed_portal).onec_url == ""


def test_unknown_portal():
    with pytest.raises(CommandError, match="не найден"):
        call_command("configure_portal", "nope", "--onec-url", "https://x/", "--onec-user", "u",
                     "--onec-password", "p")


def test_another_pipeline_gets_the_four_stages(installed_portal, onec, emulator):
    category = BitrixClient(installed_portal).call("crm.category.add", {"entityTypeId": 2,
                                                                        "fields": {"name": "Продажи 1С"}})
    category_id = int(category["category"]["id"])

    output = _configure(installed_portal.member_id, onec, "--pipeline", str(category_id))

    stage_map = PortalSettings.objects.get(portal=installed_portal).stage_map
    assert stage_map["PAID"] == f"C{category_id}:ONEC_PAID" and "Стадии сделок" in output
    statuses = {s["STATUS_ID"] for s in portal_state(emulator, installed_portal.member_id)["statuses"]}
    assert f"C{category_id}:ONEC_ORDER" in statuses
