"""ODataClient over real HTTP against the 1С emulator: paging, OR-chunks, virtual tables, errors, retries."""

import pytest

from sync.onec.client import ODataClient, OneCStats, cast, guid
from sync.onec.errors import OneCAuthError, OneCNotPublished, OneCQueryError


def test_paging_returns_every_row_once_in_ref_order(onec):
    client = onec.client()
    everything = list(client.iter_rows("Catalog_Контрагенты", select="Ref_Key", page_size=1000))
    paged = list(client.iter_rows("Catalog_Контрагенты", select="Ref_Key", page_size=7))
    assert [r["Ref_Key"] for r in paged] == [r["Ref_Key"] for r in everything]
    assert client.stats.requests == 1 + (len(everything) // 7 + 1)


def test_count_matches_rows(onec):
    client = onec.client()
    rows = list(client.iter_rows("Catalog_Контрагенты", select="Ref_Key", filter="IsFolder eq false"))
    assert client.count("Catalog_Контрагенты", "IsFolder eq false") == len(rows) > 0


def test_rows_by_refs_fetches_exactly_the_refs_in_chunks(onec):
    client = onec.client()
    refs = [r["Ref_Key"] for r in client.iter_rows("Catalog_Номенклатура", select="Ref_Key")][:45]
    client.stats.requests = 0
    rows = list(client.rows_by_refs("Catalog_Номенклатура", refs, select="Ref_Key,Description", chunk=20))
    assert sorted(r["Ref_Key"] for r in rows) == sorted(refs)
    assert client.stats.requests == 3


def test_cast_filter_on_composite_dimension(onec):
    client = onec.client()
    counterparty = onec.case("counterparty_legal_full")
    rows = list(client.iter_rows("InformationRegister_КонтактнаяИнформация", select="Объект,Тип",
                                 filter=f"Объект eq {cast(counterparty, 'Catalog_Контрагенты')}",
                                 orderby="Объект,Тип,Вид"))
    assert rows and {r["Объект"] for r in rows} == {counterparty}


def test_slice_last_and_balance(onec):
    client = onec.client()
    types = {r["Description"]: r["Ref_Key"] for r in client.iter_rows("Catalog_ТипыЦенНоменклатуры",
                                                                        select="Ref_Key,Description")}
    prices = client.slice_last("InformationRegister_ЦеныНоменклатуры",
                               condition=f"ТипЦен_Key eq {guid(types['Розничная'])}",
                               select="Номенклатура_Key,Цена", orderby="Номенклатура_Key", page_size=10)
    assert prices and len({p["Номенклатура_Key"] for p in prices}) == len(prices)
    order = onec.case("order_new")
    balance = client.balance("AccumulationRegister_ЗаказыПокупателей",
                             condition=f"ЗаказПокупателя_Key eq {guid(order)}", dimensions=["ЗаказПокупателя"],
                             select="ЗаказПокупателя_Key,СуммаВзаиморасчетовBalance")
    assert balance and balance[0]["СуммаВзаиморасчетовBalance"] > 0


def test_wrong_password_is_an_auth_error(onec):
    client = ODataClient(onec.url, "odata", "wrong", backoff=0)
    with pytest.raises(OneCAuthError) as raised:
        client.get("Catalog_Валюты")
    assert "1С отклонила логин или пароль пользователя «odata»" in raised.value.message


def test_unknown_entity_set_is_not_published(onec):
    with pytest.raises(OneCNotPublished) as raised:
        list(onec.client().iter_rows("Catalog_НетТакого", select="Ref_Key"))
    assert raised.value.object_name == "Catalog_НетТакого"
    assert "УстановитьСоставСтандартногоИнтерфейсаOData" in raised.value.message


def test_bad_query_carries_the_1c_message(onec):
    with pytest.raises(OneCQueryError) as raised:
        onec.client().get("Catalog_Валюты", {"$filter": "НетТакогоСвойства eq 1"})
    assert "НетТакогоСвойства" in raised.value.message


def test_retries_injected_500s(fresh_onec):
    fresh_onec.call("POST", "/faults", {"fault_rate": 0.5})
    stats = OneCStats()
    client = fresh_onec.client(stats=stats, retries=8)
    rows = [list(client.iter_rows("Catalog_Валюты", select="Ref_Key")) for _ in range(10)]
    assert all(len(r) == len(rows[0]) > 0 for r in rows)
    assert stats.requests > 10
