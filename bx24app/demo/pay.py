"""``make demo-pay``: a client pays an invoiced order — a bank payment posted through the running demo's 1С
emulator (its mutation API over HTTP). The running demo shows the deal moving when the next sync runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

import requests

from .options import HOST

CANDIDATE_CASES = ("order_invoiced", "order_partially_paid")  # invoiced, not (fully) paid in every data set
ONEC_AUTH = ("odata", "odata")
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
RECENT_DAYS = 60  # well inside the sync's order window (90 days by default): the order has a deal


def pay_main(args) -> int:
    base = f"http://{HOST}:{args.onec_port}"
    try:
        cases = requests.get(f"{base}/_emulator/cases", timeout=10).json()
    except requests.RequestException:
        print(f"Эмулятор 1С на {base} не отвечает. Сначала запустите демо: make demo", flush=True)
        return 1
    for ref in _candidates(base, cases):
        order = _order(base, ref)
        if not order.get("Posted") or order.get("DeletionMark"):
            continue
        response = requests.post(f"{base}/_emulator/orders/{ref}/payment",
                                 json={"kind": "bank", "against": "order"}, timeout=30)
        if response.status_code == 400:
            continue  # already paid in full (an earlier `make demo-pay`)
        response.raise_for_status()
        payment = response.json()
        print(f"1С: по заказу {order.get('Number', ref)} на {order.get('СуммаДокумента', '?')} руб. "
              f"проведено платежное поручение входящее {payment.get('number', '')} (оплата остатка долга).",
              flush=True)
        print("Смотрите вывод демо: при следующей синхронизации по расписанию (в течение минуты) сделка "
              "перейдет в «Счет оплачен», ответственный получит уведомление.", flush=True)
        return 0
    print("Все заказы со счетом уже оплачены: перезапустите демо (make demo), чтобы начать заново.", flush=True)
    return 1


def _candidates(base: str, cases: dict):
    """The data set's invoiced-unpaid cases first, then the orders of the latest invoices."""
    seen = set()
    for case in CANDIDATE_CASES:
        for ref in cases.get(case, []):
            seen.add(ref)
            yield ref
    since = (datetime.now() - timedelta(days=RECENT_DAYS)).strftime("%Y-%m-%dT00:00:00")
    params = {"$format": "json", "$select": "ЗаказПокупателя_Key,Date", "$orderby": "Date desc", "$top": "200",
              "$filter": f"DeletionMark eq false and Date ge datetime'{since}'"}
    url = (f"{base}/ut103/odata/standard.odata/Document_СчетНаОплатуПокупателю?"
           + urlencode(params, quote_via=quote))  # 1С reads '+' literally: spaces must be %20
    try:
        rows = requests.get(url, auth=ONEC_AUTH, timeout=30).json().get("value", [])
    except (requests.RequestException, ValueError):
        return
    for row in rows:
        ref = row.get("ЗаказПокупателя_Key")
        if ref and ref not in seen and ref != EMPTY_REF:
            seen.add(ref)
            yield ref


def _order(base: str, ref: str) -> dict:
    url = f"{base}/ut103/odata/standard.odata/Document_ЗаказПокупателя(guid'{ref}')"
    try:
        response = requests.get(url, params={"$format": "json", "$select": "Number,СуммаДокумента,Posted,DeletionMark"},
                                auth=ONEC_AUTH, timeout=10)
        return response.json() if response.ok else {}
    except (requests.RequestException, ValueError):
        return {}
