"""onec_connection_check: a working publication, wrong password, not OData, missing objects, version advice."""

from sync.onec.check import (
    ConnectionReport,
    missing_objects_error,
    onec_connection_check,
    required_entity_sets,
    version_advice,
)

from .conftest import PASSWORD, USER
from .http_stub import Stub, html_response, json_response, odata_error


def test_working_publication(onec):
    report = onec_connection_check(onec.url, USER, PASSWORD)
    assert report.ok and not report.error and not report.missing_objects
    assert report.counterparties > 0 and report.products > 0 and report.orders > 0
    names = {p["name"]: p["calculated"] for p in report.price_types}
    assert names["Розничная"] is False and names["Мелкооптовая"] is True
    lines = report.summary_lines()
    assert lines[0].endswith("успешно") and any(line.startswith("Контрагентов: ") for line in lines)


def test_wrong_password(onec):
    report = onec_connection_check(onec.url, USER, "не тот")
    assert not report.ok and "1С отклонила логин или пароль пользователя «odata»" in report.error


def test_html_page_is_not_odata():
    with Stub(html_response(200)) as stub:
        report = onec_connection_check(stub.url, USER, PASSWORD)
    assert not report.ok and report.error.startswith(f"По адресу {stub.url} отвечает не OData-публикация 1С")


def test_unreachable_server():
    report = onec_connection_check("http://127.0.0.1:9/base/odata/standard.odata/", USER, PASSWORD, timeout=1)
    assert not report.ok and "1С недоступна" in report.error


def test_missing_objects_are_named_with_the_way_to_publish():
    published = {"value": [{"name": "Catalog_Контрагенты", "url": "Catalog_Контрагенты"}]}
    with Stub(json_response(published), (200, "text/plain", "5")) as stub:
        report = onec_connection_check(stub.url, USER, PASSWORD)
    assert not report.ok and "Catalog_Номенклатура" in report.missing_objects
    assert "Catalog_Контрагенты" not in report.missing_objects and report.counterparties == 5
    assert ("Объект Document_ЗаказПокупателя не опубликован в стандартном интерфейсе OData: добавьте его в состав "
            "(УстановитьСоставСтандартногоИнтерфейсаOData)") in report.error.splitlines()


def test_empty_composition():
    assert "ни один объект" in missing_objects_error(["Catalog_Контрагенты"], set())


def test_configuration_version_advice():
    assert version_advice("10.3.19.4") and "10.3.52.2" in version_advice("10.3.19.4")[0]
    assert version_advice("10.3.52.2") == [] and version_advice(None) == []
    report = ConnectionReport(url="u", ok=True, configuration_version="10.3.19.4",
                              advice=version_advice("10.3.19.4"))
    assert report.summary_lines()[-1].startswith("Рекомендуется обновить конфигурацию")


def test_configuration_version_read_from_the_constant_when_published():
    sets = {"value": [{"name": "Constant_НомерВерсииКонфигурации", "url": "Constant_НомерВерсииКонфигурации"}]}
    with Stub(json_response(sets), json_response({"Value": "10.3.32.2"})) as stub:
        report = onec_connection_check(stub.url, USER, PASSWORD)
    assert report.configuration_version == "10.3.32.2" and report.advice


def test_sets_missing_from_the_service_document_are_probed():
    listed = [n for n in required_entity_sets() if n not in ("Document_ПоступлениеТоваровУслуг_Товары",
                                                             "Catalog_КонтактныеЛица")]

    def answer(path):
        if "/$count" in path:
            return 200, "text/plain", "7"
        if "Catalog_КонтактныеЛица?" in path:
            return odata_error(404, "Не найден ресурс")
        if "standard.odata/?" in path:
            return json_response({"value": [{"name": n, "url": n} for n in listed]})
        return json_response({"value": []})

    with Stub(answer) as stub:
        report = onec_connection_check(stub.url, USER, PASSWORD)
    assert report.missing_objects == ["Catalog_КонтактныеЛица"]
    assert report.error.startswith("Объект Catalog_КонтактныеЛица не опубликован") and not report.ok
    assert report.counterparties == report.products == report.orders == 7
