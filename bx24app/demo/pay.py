"""``make demo-pay``: a client pays an invoiced order — a bank payment posted through the running demo's 1С
emulator (its mutation API over HTTP). The running demo shows the deal moving when the next sync runs."""

from __future__ import annotations

import requests

from .options import HOST

CANDIDATE_CASES = ("order_invoiced", "order_partially_paid")  # invoiced, not (fully) paid in every data set
ONEC_AUTH = ("odata", "odata")


def pay_main(args) -> int:
    base = f"http://{HOST}:{args.onec_port}"
    try:
        cases = requests.get(f"{base}/_emulator/cases", timeout=10).json()
    except requests.RequestException:
        print(f"Эмулятор 1С на {base} не отвечает. Сначала запустите демо: make demo", flush=True)
        return 1
    for case in CANDIDATE_CASES:
        for ref in cases.get(case, []):
            order = _order(base, ref)
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


def _order(base: str, ref: str) -> dict:
    url = f"{base}/ut103/odata/standard.odata/Document_ЗаказПокупателя(guid'{ref}')"
    try:
        response = requests.get(url, params={"$format": "json", "$select": "Number,СуммаДокумента"},
                                auth=ONEC_AUTH, timeout=10)
        return response.json() if response.ok else {}
    except requests.RequestException:
        return {}
