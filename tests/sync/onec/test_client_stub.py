"""ODataClient against a canned local server: encoding, auth header, paging, error mapping, retries."""

import base64
from urllib.parse import unquote

import pytest

from sync.onec.client import ODataClient, OneCStats, cast, datetime_literal, guid, string_literal
from sync.onec.errors import (
    OneCAuthError,
    OneCNotOData,
    OneCNotPublished,
    OneCQueryError,
    OneCTimeout,
    OneCUnavailable,
)

from .http_stub import Stub, html_response, json_response, odata_error


def make_client(stub, **kwargs):
    kwargs.setdefault("backoff", 0)
    return ODataClient(stub.url, "Администратор", "пароль 1", **kwargs)


def test_literals():
    assert guid("a") == "guid'a'"
    assert string_literal("О'Нил") == "'О''Нил'"
    assert cast("g", "Document_ЗаказПокупателя") == "cast(guid'g','Document_ЗаказПокупателя')"
    from datetime import date, datetime

    assert datetime_literal(datetime(2026, 1, 2, 3, 4, 5)) == "datetime'2026-01-02T03:04:05'"
    assert datetime_literal(date(2026, 1, 2)) == "datetime'2026-01-02T00:00:00'"


def test_cyrillic_path_is_percent_encoded_with_20_for_spaces_and_utf8_basic_auth():
    with Stub(json_response({"value": []})) as stub:
        make_client(stub).get("Catalog_Контрагенты", {"$filter": "Description eq 'ООО Ромашка+'"})
    path, headers = stub.requests[0]
    assert "+" not in path and " " not in path
    assert "%D0%9A" in path  # К
    assert "%20" in path and "%2B" in path
    assert "$format=json" in path
    assert unquote(path).endswith("$filter=Description eq 'ООО Ромашка+'&$format=json")
    token = headers["Authorization"].split()[1]
    assert base64.b64decode(token).decode() == "Администратор:пароль 1"


def test_iter_rows_pages_until_a_short_page():
    pages = [json_response({"value": [{"Ref_Key": str(i)} for i in range(n)]}) for n in (2, 2, 1)]
    with Stub(*pages) as stub:
        rows = list(make_client(stub, page_size=2).iter_rows("Catalog_Банки", select=["Ref_Key"]))
    assert [r["Ref_Key"] for r in rows] == ["0", "1", "0", "1", "0"]
    skips = [unquote(p).split("$skip=")[1].split("&")[0] for p, _ in stub.requests]
    assert skips == ["0", "2", "4"]
    assert all("$orderby=Ref_Key" in unquote(p) and "$top=2" in p for p, _ in stub.requests)


def test_count_reads_a_bare_number():
    with Stub((200, "text/plain;charset=utf-8", "\ufeff42")) as stub:
        assert make_client(stub).count("Catalog_Контрагенты", "IsFolder eq false") == 42
    assert "/$count?" in unquote(stub.requests[0][0])


@pytest.mark.parametrize(("response", "error"), [
    (odata_error(401, "Не пройдена аутентификация"), OneCAuthError),
    (odata_error(403, "Нет прав"), OneCAuthError),
    (odata_error(404, "Не найден ресурс"), OneCNotPublished),
    (odata_error(400, "Ошибка разбора параметра запроса $filter"), OneCQueryError),
    (html_response(200), OneCNotOData),
    (html_response(404), OneCNotOData),
    ((200, "application/json", "not json at all"), OneCNotOData),
])
def test_error_mapping(response, error):
    with Stub(response) as stub, pytest.raises(error) as raised:
        make_client(stub).get("Catalog_Контрагенты")
    message = raised.value.message
    assert message and all(ord(c) < 0x2000 for c in message)
    if error is OneCAuthError and response[0] == 401:
        assert "1С отклонила логин или пароль пользователя «Администратор»" in message
    if error is OneCNotPublished:
        assert message.startswith("Объект Catalog_Контрагенты не опубликован в стандартном интерфейсе OData")
        assert "УстановитьСоставСтандартногоИнтерфейсаOData" in message
    if error is OneCQueryError:
        assert "Ошибка разбора параметра запроса $filter" in message
    if error is OneCNotOData:
        assert message.startswith(f"По адресу {stub.url} отвечает не OData-публикация 1С")


def test_retries_5xx_then_succeeds_and_counts_every_request():
    stats = OneCStats()
    with Stub(odata_error(500, "сбой"), odata_error(503, "занят"), json_response({"value": [{"a": 1}]})) as stub:
        assert make_client(stub, stats=stats).get("Catalog_Валюты")["value"] == [{"a": 1}]
    assert stats.requests == 3


def test_gives_up_after_bounded_retries():
    with Stub(odata_error(500, "Ошибка СУБД")) as stub, pytest.raises(OneCUnavailable) as raised:
        make_client(stub, retries=3).get("Catalog_Валюты")
    assert len(stub.requests) == 3
    assert "Ошибка СУБД" in raised.value.message


def test_connection_refused_is_unavailable():
    client = ODataClient("http://127.0.0.1:9/x/odata/standard.odata", "u", "p", retries=2, backoff=0)
    with pytest.raises(OneCUnavailable):
        client.get("Catalog_Валюты")


def test_timeout_is_reported():
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: [accepted.append(listener.accept()) for _ in range(2)], daemon=True).start()
    client = ODataClient(f"http://127.0.0.1:{port}/", "u", "p", timeout=0.2, retries=2, backoff=0)
    try:
        with pytest.raises(OneCTimeout) as raised:
            client.get("Catalog_Валюты")
        assert "не ответила" in raised.value.message
    finally:
        listener.close()


def test_rows_by_refs_chunks_or_chains_and_keeps_urls_short():
    refs = [f"{i:08d}-0000-0000-0000-000000000000" for i in range(100)]
    with Stub(json_response({"value": []})) as stub:
        client = make_client(stub)
        list(client.rows_by_refs("Document_ЗаказПокупателя_Товары", refs, select="Ref_Key",
                                 key="Номенклатура_Key", chunk=40))
        list(client.rows_by_refs("InformationRegister_КонтактнаяИнформация", refs, select="Объект",
                                 key="Объект", key_type="Catalog_Контрагенты", chunk=1000, orderby="Объект"))
    first = [unquote(p) for p, _ in stub.requests[:3]]
    assert [p.count(" or ") + 1 for p in first] == [40, 40, 20]
    assert all(len(p) <= 7000 for p, _ in stub.requests)
    casts = [unquote(p) for p, _ in stub.requests[3:]]
    assert len(casts) > 1 and "Объект eq cast(guid'00000000-" in casts[0]
    assert sum(p.count("cast(") for p in casts) == 100
