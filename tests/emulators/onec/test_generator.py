"""Generator determinism and speed, check-digit helpers, the filter parser in isolation, API and CLI entry points."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators.onec import OneCEmulator
from emulators.onec.generator import checkdigits
from emulators.onec.generator.dataset import DatasetBuilder
from emulators.onec.query import Compiler, filter_rows, parse_filter
from emulators.onec.store import Store

ROOT = Path(__file__).resolve().parents[3]


def build(seed, size="small"):
    store = Store(seed)
    return store, DatasetBuilder(store, seed, size).build()


def snapshot(store):
    return [(o["Ref_Key"], o.get("Description"), o.get("ИНН")) for o in store.objects["Catalog_Контрагенты"].values()]


def test_same_seed_same_data_other_seed_other_data():
    store1, builder1 = build(7)
    store2, builder2 = build(7)
    store3, _ = build(8)
    assert snapshot(store1) == snapshot(store2)
    assert builder1.cases == builder2.cases
    assert snapshot(store1) != snapshot(store3)


def test_small_generation_is_fast():
    started = time.monotonic()
    build(3)
    assert time.monotonic() - started < 0.5


def test_check_digits_known_values():
    assert checkdigits.inn_is_valid("7707083893")  # ПАО Сбербанк
    assert checkdigits.inn_is_valid("500100732259")
    assert not checkdigits.inn_is_valid("7707083894")
    assert not checkdigits.inn_is_valid("770708389")
    assert checkdigits.corr_account("044525225") == "30101810400000000225"
    assert checkdigits.corr_account_is_valid("044525225", "30101810400000000225")
    account = checkdigits.settlement_account("044525225", "40702810000000012345")
    assert checkdigits.account_is_valid("044525225", account)
    assert not checkdigits.account_is_valid("044525974", account)
    assert checkdigits.kpp_is_valid("770101001") and not checkdigits.kpp_is_valid("77010100")
    assert checkdigits.bik_is_valid("044525225") and not checkdigits.bik_is_valid("4452522")


def test_parser_handles_very_long_or_chain():
    store, _ = build(1)
    es = store.schema["Document_ЗаказПокупателя"]
    refs = list(store.objects["Document_ЗаказПокупателя"])
    text = " or ".join(f"Ref_Key eq guid'{r}'" for r in refs * 20)
    ast = parse_filter(text)
    assert ast[0] == "or" and len(ast[1]) == len(refs) * 20
    rows = filter_rows(store, es, store.rows(es.name), text, row_source=es.name)
    assert [r["Ref_Key"] for r in rows] == refs


def test_index_keeps_exact_case_sensitive_semantics():
    store, _ = build(1)
    es = store.schema["Catalog_Валюты"]
    rows = store.rows(es.name)
    assert [r["Code"] for r in filter_rows(store, es, rows, "Description eq 'USD'", row_source=es.name)] == ["840"]
    assert filter_rows(store, es, rows, "Description eq 'usd'", row_source=es.name) == []
    predicate = Compiler(es, store).compile(parse_filter("Code eq '643' or Code eq '978'"))
    assert sorted(r["Code"] for r in rows if predicate(r)) == ["643", "978"]


def test_python_api_options():
    emu = OneCEmulator(port=0, size="small", seed=2, user="admin", password="secret", infobase="trade")
    emu.start()
    try:
        assert emu.odata_url == f"http://127.0.0.1:{emu.port}/trade/odata/standard.odata/"
        assert emu.base_url == f"http://127.0.0.1:{emu.port}"
        assert requests.get(emu.odata_url, auth=("admin", "secret"), timeout=10).status_code == 200
        assert requests.get(emu.odata_url, auth=("odata", "odata"), timeout=10).status_code == 401
        assert requests.get(emu.base_url + "/_emulator/cases", timeout=10).json() == emu.cases()
        assert emu.bad_records()
    finally:
        emu.stop()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_starts_a_server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "emulators.onec", "--host", "127.0.0.1", "--port", str(port),
                             "--size", "small", "--seed", "5", "--latency-ms", "0", "--fault-rate", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/ut103/odata/standard.odata/Catalog_Валюты?$format=json"
        for _ in range(100):
            try:
                response = requests.get(url, auth=("odata", "odata"), timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("CLI emulator did not start")
        assert response.status_code == 200 and len(response.json()["value"]) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=10)
