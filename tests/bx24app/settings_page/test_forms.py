"""Every section form through the views: valid saves, field-level Russian errors, other settings untouched,
the 1С password never rendered back. The portal is the Bitrix24 emulator, 1С the 1С emulator, both over HTTP."""

import re

import pytest

from bx24app.models import PortalSettings
from bx24app.settings_page.selectors import CREATE, portal_call

from .conftest import frame_token, launch, plain_user, save

pytestmark = pytest.mark.django_db

SECRET = "Sup3r-Secret-1C-Passw0rd"


@pytest.fixture
def token(open_frame, ready_portal):
    return open_frame(ready_portal)


@pytest.fixture
def relaunch(client, bitrix_emulator, ready_portal):
    """Open the page again, as the portal would (a fresh frame)."""
    return lambda: launch(client, bitrix_emulator, ready_portal)


def settings_of(portal) -> PortalSettings:
    return PortalSettings.objects.get(portal=portal)


def field_errors(response, section) -> dict:
    return {name: [str(e) for e in errs] for name, errs in response.context["forms"][section].errors.items()}


def snapshot(portal, *exclude) -> dict:
    row = settings_of(portal)
    names = ["onec_url", "onec_user", "onec_password", "sale_price_type", "purchase_price_type", "category_id",
             "stage_map", "field_map", "user_map", "default_responsible_id", "editor_user_ids", "schedule_enabled",
             "interval_minutes", "order_window_days"]
    return {n: getattr(row, n) for n in names if n not in exclude}


# ---- 1. Подключение к 1С -----------------------------------------------------------------------------------
def test_onec_save_keeps_the_password_when_left_empty(client, token, ready_portal, onec_emulator):
    before = snapshot(ready_portal, "onec_url", "onec_user")
    response = save(client, token, "onec", {"onec_url": onec_emulator.odata_url, "onec_user": "manager",
                                            "onec_password": "", "action": "save"})
    assert response.status_code == 200
    assert "Настройки сохранены." in response.content.decode()
    row = settings_of(ready_portal)
    assert (row.onec_url, row.onec_user, row.onec_password) == (onec_emulator.odata_url, "manager", "odata")
    assert snapshot(ready_portal, "onec_url", "onec_user") == before


def test_onec_new_password_is_stored_encrypted_and_never_shown(client, token, ready_portal, onec_emulator,
                                                               relaunch):
    response = save(client, token, "onec", {"onec_url": onec_emulator.odata_url, "onec_user": "odata",
                                            "onec_password": SECRET, "action": "save"})
    assert response.status_code == 200
    assert settings_of(ready_portal).onec_password == SECRET
    assert SECRET not in response.content.decode()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT onec_password FROM bx24app_portalsettings WHERE portal_id = %s", [ready_portal.pk])
        assert SECRET not in cursor.fetchone()[0]
    page = relaunch().content.decode()
    assert SECRET not in page
    assert "Пароль сохранён. Оставьте поле пустым, чтобы не менять его." in page


def test_onec_password_is_not_echoed_on_validation_errors(client, token, ready_portal):
    response = save(client, token, "onec", {"onec_url": "", "onec_user": "x", "onec_password": SECRET})
    assert response.status_code == 400
    assert SECRET not in response.content.decode()


def test_onec_field_errors_are_russian(client, token, ready_portal):
    before = snapshot(ready_portal)
    response = save(client, token, "onec", {"onec_url": "ftp://1c/odata", "onec_user": "", "action": "save"})
    assert response.status_code == 400
    errors = field_errors(response, "onec")
    assert errors["onec_user"] == ["Обязательное поле."]
    assert errors["onec_url"] == ["Введите правильный URL."] or "http" in errors["onec_url"][0]
    response = save(client, token, "onec", {"onec_url": "https://1c.example.ru/ut/", "onec_user": "u"})
    assert "стандартного интерфейса OData" in field_errors(response, "onec")["onec_url"][0]
    html = response.content.decode()
    assert "invalid-feedback" in html and "Исправьте ошибки в форме." in html
    assert snapshot(ready_portal) == before


def test_onec_check_reports_what_it_found(client, token, ready_portal, onec_emulator):
    response = save(client, token, "onec", {"onec_url": onec_emulator.odata_url, "onec_user": "odata",
                                            "onec_password": "", "action": "check"})
    assert response.status_code == 200
    report = response.context["check_report"]
    assert report["ok"] is True
    html = response.content.decode()
    assert "Подключение работает." in html
    assert re.search(r"Контрагентов: \d+", html) and re.search(r"Номенклатуры: \d+", html)
    assert "Розничная" in report["price_types"]
    assert "Версия конфигурации" in html
    # checking does not save
    assert settings_of(ready_portal).onec_url == onec_emulator.odata_url


def test_onec_check_wrong_password(client, token, ready_portal, onec_emulator):
    response = save(client, token, "onec", {"onec_url": onec_emulator.odata_url, "onec_user": "odata",
                                            "onec_password": "wrong", "action": "check"})
    report = response.context["check_report"]
    assert report["ok"] is False
    assert "логин или пароль" in report["error"]
    assert "Подключиться не удалось." in response.content.decode()
    assert settings_of(ready_portal).onec_password == "odata"


def test_onec_check_url_that_is_not_odata(client, token, ready_portal, onec_emulator):
    response = save(client, token, "onec", {"onec_url": onec_emulator.base_url + "/odata-not-here/",
                                            "onec_user": "odata", "action": "check"})
    report = response.context["check_report"]
    assert report["ok"] is False
    assert "не OData-публикация 1С" in report["error"]


def test_onec_check_advises_to_update_old_configuration(monkeypatch, client, token, ready_portal, onec_emulator):
    from sync.onec import check

    monkeypatch.setattr(check, "configuration_version", lambda client, published: "10.3.19.4")
    response = save(client, token, "onec", {"onec_url": onec_emulator.odata_url, "onec_user": "odata",
                                            "action": "check"})
    assert "до версии 10.3.52.2" in response.content.decode()


# ---- 2. Цены -----------------------------------------------------------------------------------------------
def test_prices_choices_come_from_1c_and_save(client, token, ready_portal, relaunch):
    page = relaunch()
    choices = [c[0] for c in page.context["forms"]["prices"].fields["sale_price_type"].choices]
    assert {"Розничная", "Закупочная", "Оптовая"} <= set(choices)
    before = snapshot(ready_portal, "sale_price_type", "purchase_price_type")
    response = save(client, token, "prices", {"sale_price_type": "Розничная", "purchase_price_type": "Закупочная"})
    assert response.status_code == 200
    row = settings_of(ready_portal)
    assert (row.sale_price_type, row.purchase_price_type) == ("Розничная", "Закупочная")
    assert snapshot(ready_portal, "sale_price_type", "purchase_price_type") == before


def test_prices_errors(client, token, ready_portal):
    response = save(client, token, "prices", {"sale_price_type": "Нет такой", "purchase_price_type": ""})
    assert response.status_code == 400
    errors = field_errors(response, "prices")
    assert errors["sale_price_type"] == ["Такого типа цен нет в 1С."]
    assert errors["purchase_price_type"] == ["Выберите тип цен."]


def test_prices_free_text_when_1c_is_unreachable(client, bitrix_emulator, ready_portal):
    PortalSettings.objects.filter(portal=ready_portal).update(onec_url="http://127.0.0.1:9/odata/standard.odata/")
    response = launch(client, bitrix_emulator, ready_portal)
    assert response.status_code == 200
    assert response.context["forms"]["prices"].price_types_known is False
    response = save(client, frame_token(response), "prices", {"sale_price_type": "Розничная",
                                                              "purchase_price_type": "Закупочная"})
    assert response.status_code == 200
    assert settings_of(ready_portal).sale_price_type == "Розничная"


# ---- 3. Воронка и стадии -----------------------------------------------------------------------------------
def test_stages_show_the_current_mapping(client, bitrix_emulator, ready_portal):
    html = launch(client, bitrix_emulator, ready_portal).content.decode()
    assert "Текущее сопоставление" in html
    assert "ONEC_ORDER" in html and "Заявка получена, подготовка счета" in html


def test_stages_map_to_existing_and_create_in_another_pipeline(client, token, ready_portal, crm):
    category = portal_call(ready_portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт"}})
    category_id = int(category["category"]["id"])
    before = snapshot(ready_portal, "category_id", "stage_map")
    data = {"category_id": str(category_id), "stage_ORDER_RECEIVED": f"C{category_id}:PREPARATION",
            "stage_INVOICE_SENT": CREATE, "stage_PAID": CREATE, "stage_SHIPPED_UNPAID": f"C{category_id}:EXECUTING"}
    response = save(client, token, "stages", data)
    assert response.status_code == 200, field_errors(response, "stages")
    row = settings_of(ready_portal)
    assert row.category_id == category_id
    assert row.stage_map == {"ORDER_RECEIVED": f"C{category_id}:PREPARATION",
                             "INVOICE_SENT": f"C{category_id}:ONEC_INVOICE",
                             "PAID": f"C{category_id}:ONEC_PAID",
                             "SHIPPED_UNPAID": f"C{category_id}:EXECUTING"}
    entity = f"DEAL_STAGE_{category_id}"
    names = {s["STATUS_ID"]: s["NAME"] for s in crm.state()["statuses"] if s["ENTITY_ID"] == entity}
    assert names[f"C{category_id}:ONEC_INVOICE"] == "Счет отправлен, ожидание оплаты"
    assert names[f"C{category_id}:ONEC_PAID"] == "Счет оплачен"
    assert snapshot(ready_portal, "category_id", "stage_map") == before
    # saving again creates nothing twice
    response = save(client, token, "stages", {**data, "stage_INVOICE_SENT": f"C{category_id}:ONEC_INVOICE"})
    assert response.status_code == 200


def test_stages_errors(client, token, ready_portal):
    category = portal_call(ready_portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт"}})
    category_id = int(category["category"]["id"])
    before = snapshot(ready_portal)
    response = save(client, token, "stages", {
        "category_id": "0", "stage_ORDER_RECEIVED": f"C{category_id}:NEW", "stage_INVOICE_SENT": "PREPARATION",
        "stage_PAID": "PREPARATION", "stage_SHIPPED_UNPAID": "NO_SUCH"})
    assert response.status_code == 400
    errors = field_errors(response, "stages")
    assert errors["stage_ORDER_RECEIVED"] == ["Стадия не из выбранной воронки «Общая»."]
    assert errors["stage_PAID"] == ["Эта стадия уже выбрана для «Счет отправлен, ожидание оплаты»."]
    assert errors["stage_SHIPPED_UNPAID"] == ["Такой стадии нет на портале."]
    response = save(client, token, "stages", {"category_id": "999"})
    assert field_errors(response, "stages")["category_id"] == ["Такой воронки нет на портале."]
    assert snapshot(ready_portal) == before


# ---- 4. Поля сделки ----------------------------------------------------------------------------------------
def test_deal_fields_default_to_ours_and_accept_a_compatible_existing_field(client, token, ready_portal, relaunch):
    portal_call(ready_portal, "crm.deal.userfield.add", {"fields": {
        "FIELD_NAME": "MY_PAY_DATE", "USER_TYPE_ID": "datetime", "LABEL": "Моя дата оплаты"}})
    page = relaunch()
    form = page.context["forms"]["fields"]
    assert form.initial["field_order_number"] == "UF_CRM_ONEC_ORDER_NUM"
    data = {name: value for name, value in form.initial.items()}
    data["field_payment_date"] = "UF_CRM_MY_PAY_DATE"
    before = snapshot(ready_portal, "field_map")
    response = save(client, token, "fields", data)
    assert response.status_code == 200, field_errors(response, "fields")
    field_map = settings_of(ready_portal).field_map
    assert field_map["payment_date"] == "UF_CRM_MY_PAY_DATE"
    assert field_map["order_number"] == "UF_CRM_ONEC_ORDER_NUM"
    assert snapshot(ready_portal, "field_map") == before


def test_deal_fields_errors(client, token, ready_portal):
    before = snapshot(ready_portal)
    response = save(client, token, "fields", {"field_order_date": "UF_CRM_ONEC_ORDER_NUM",  # string for a date
                                              "field_invoice_number": "UF_CRM_ONEC_ORDER_NUM",
                                              "field_order_number": "UF_CRM_ONEC_ORDER_NUM"})
    assert response.status_code == 400
    errors = field_errors(response, "fields")
    assert errors["field_order_date"] == ["Поле не найдено на портале или его тип не подходит."]
    assert errors["field_invoice_number"] == ["Это поле уже используется для «Номер заказа 1С»."]
    assert snapshot(ready_portal) == before


# ---- 5. Ответственные --------------------------------------------------------------------------------------
def test_responsible_matched_by_name_and_saved(client, bitrix_emulator, ready_portal):
    kravtsova = plain_user(bitrix_emulator, ready_portal, "Елена", "Кравцова", "")
    belyaev = plain_user(bitrix_emulator, ready_portal, "Игорь", "Беляев", "")
    page = launch(client, bitrix_emulator, ready_portal)
    form = page.context["forms"]["responsible"]
    by_name = {row["name"]: index for index, row in enumerate(form.onec_users)}
    assert form.initial[f"onec_user_{by_name['Кравцова Елена Викторовна']}"] == kravtsova
    assert form.initial[f"onec_user_{by_name['Беляев Игорь Андреевич']}"] == belyaev
    assert form.initial[f"onec_user_{by_name['Гусева Марина Сергеевна']}"] is None
    assert "Предложено автоматически" in str(form.fields[f"onec_user_{by_name['Беляев Игорь Андреевич']}"].help_text)
    data = {k: ("" if v is None else str(v)) for k, v in form.initial.items() if k.startswith("onec_user_")}
    data[f"onec_user_{by_name['Гусева Марина Сергеевна']}"] = str(belyaev)  # edited by hand
    data["default_responsible_id"] = str(kravtsova)
    before = snapshot(ready_portal, "user_map", "default_responsible_id")
    response = save(client, frame_token(page), "responsible", data)
    assert response.status_code == 200, field_errors(response, "responsible")
    row = settings_of(ready_portal)
    refs = {r["name"]: r["ref"] for r in form.onec_users}
    assert row.user_map == {refs["Кравцова Елена Викторовна"]: kravtsova, refs["Беляев Игорь Андреевич"]: belyaev,
                            refs["Гусева Марина Сергеевна"]: belyaev}
    assert row.default_responsible_id == kravtsova
    assert snapshot(ready_portal, "user_map", "default_responsible_id") == before
    saved_form = response.context["forms"]["responsible"]
    assert not any("Предложено" in str(f.help_text) for f in saved_form.fields.values())


def test_responsible_errors(client, token, ready_portal):
    response = save(client, token, "responsible", {"onec_user_0": "99999", "default_responsible_id": ""})
    assert response.status_code == 400
    errors = field_errors(response, "responsible")
    assert errors["default_responsible_id"] == ["Выберите ответственного по умолчанию."]
    assert errors["onec_user_0"] == ["Такого пользователя нет на портале."]


def test_responsible_without_1c_keeps_the_user_map(client, bitrix_emulator, ready_portal):
    PortalSettings.objects.filter(portal=ready_portal).update(onec_url="http://127.0.0.1:9/odata/standard.odata/",
                                                              user_map={"ref-1": 1})
    page = launch(client, bitrix_emulator, ready_portal)
    assert "Не удалось прочитать пользователей 1С" in page.content.decode()
    response = save(client, frame_token(page), "responsible", {"default_responsible_id": "1"})
    assert response.status_code == 200
    row = settings_of(ready_portal)
    assert (row.user_map, row.default_responsible_id) == ({"ref-1": 1}, 1)


def test_editors_errors(client, token, ready_portal):
    response = save(client, token, "editors", {"editor_user_ids": ["424242"]})
    assert response.status_code == 400
    assert field_errors(response, "editors")["editor_user_ids"] == ["Такого пользователя нет на портале."]


# ---- 6. Расписание -----------------------------------------------------------------------------------------
def test_schedule_saves_only_its_fields(client, token, ready_portal):
    before = snapshot(ready_portal, "schedule_enabled", "interval_minutes", "order_window_days")
    response = save(client, token, "schedule", {"interval_minutes": "15", "order_window_days": "60"})
    assert response.status_code == 200
    row = settings_of(ready_portal)
    assert (row.schedule_enabled, row.interval_minutes, row.order_window_days) == (False, 15, 60)
    assert snapshot(ready_portal, "schedule_enabled", "interval_minutes", "order_window_days") == before


def test_schedule_errors(client, token, ready_portal):
    response = save(client, token, "schedule", {"schedule_enabled": "on", "interval_minutes": "0",
                                                "order_window_days": "abc"})
    assert response.status_code == 400
    errors = field_errors(response, "schedule")
    assert errors["interval_minutes"] == ["Убедитесь, что это значение больше либо равно 1."]
    assert errors["order_window_days"] == ["Введите целое число дней."]
    response = save(client, token, "schedule", {"interval_minutes": "", "order_window_days": "99999"})
    errors = field_errors(response, "schedule")
    assert errors["interval_minutes"] == ["Укажите интервал."]
    assert errors["order_window_days"] == ["Убедитесь, что это значение меньше либо равно 3650."]
    assert settings_of(ready_portal).interval_minutes == 5


# ---- 8. Уведомление об оплате ------------------------------------------------------------------------------
def test_notification_section_names_the_robot(client, bitrix_emulator, ready_portal):
    html = launch(client, bitrix_emulator, ready_portal).content.decode()
    assert "Уведомить ответственного об оплате" in html
    assert "Добавить робота" in html


def test_unknown_section_is_404(client, token):
    assert save(client, token, "nope", {}).status_code == 404
