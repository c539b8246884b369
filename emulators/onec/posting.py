"""Register movements written by posting documents, the way УТ 10.3 writes them (reference §2.12, §2.14)."""

from collections import defaultdict

from .errors import ODataError
from .store import composite_type, is_empty_ref

SETTLEMENTS = "AccumulationRegister_РасчетыСКонтрагентами"
ORDERS = "AccumulationRegister_ЗаказыПокупателей"
PRICES = "InformationRegister_ЦеныНоменклатуры"
ORDER = "Document_ЗаказПокупателя"
INVOICE = "Document_СчетНаОплатуПокупателю"
REALIZATION = "Document_РеализацияТоваровУслуг"
BANK = "Document_ПлатежноеПоручениеВходящее"
CASH = "Document_ПриходныйКассовыйОрдер"
CARD = "Document_ОплатаОтПокупателяПлатежнойКартой"
CLOSING = "Document_ЗакрытиеЗаказовПокупателей"
PRICE_SETTING = "Document_УстановкаЦенНоменклатуры"
RECEIPT_OF_GOODS = "Document_ПоступлениеТоваровУслуг"
PAYMENT_SETS = (BANK, CASH, CARD)
ORDER_TYPE = composite_type(ORDER)
INVOICE_TYPE = composite_type(INVOICE)
ORDER_DIMENSIONS = ("ДоговорКонтрагента_Key", "ЗаказПокупателя_Key", "Номенклатура_Key", "Цена",
                    "ЕдиницаИзмерения_Key", "СтавкаНДС")


def money(value):
    value = round(value + 0.0, 2)
    return int(value) if value == int(value) else value


def management_amount(doc, amount):
    rate = doc.get("КурсВзаиморасчетов") or 1
    multiplicity = doc.get("КратностьВзаиморасчетов") or 1
    return money(amount * rate / multiplicity)


# ---------------------------------------------------------------- per-document movements


def order_settlement_deal(store, order):
    """Сделка of an order's own settlement Receipt.

    Decision: on a «ПоСчетам» contract the settlements are kept by invoice, so once the order has an
    invoice its Receipt is written against that invoice (the order is re-posted when the invoice is made).
    """
    contract = store.get("Catalog_ДоговорыКонтрагентов", order.get("ДоговорКонтрагента_Key"))
    if contract and contract.get("ВедениеВзаиморасчетов") == "ПоСчетам":
        for inv_ref in store.invoices_by_order.get(order["Ref_Key"], ()):
            invoice = store.get(INVOICE, inv_ref)
            if invoice and not invoice.get("DeletionMark"):
                return inv_ref, INVOICE_TYPE
    return order["Ref_Key"], ORDER_TYPE


def order_movements(store, order):
    date = order["Date"]
    lines = (order.get("Товары") or []) + (order.get("Услуги") or [])
    orders_rows = [
        {
            "Period": date, "RecordType": "Receipt", "ДоговорКонтрагента_Key": order.get("ДоговорКонтрагента_Key"),
            "ЗаказПокупателя_Key": order["Ref_Key"], "Номенклатура_Key": line.get("Номенклатура_Key"),
            "Цена": line.get("Цена", 0), "ЕдиницаИзмерения_Key": line.get("ЕдиницаИзмерения_Key"),
            "СтавкаНДС": line.get("СтавкаНДС", ""), "Количество": line.get("Количество", 0),
            "СуммаВзаиморасчетов": line.get("Сумма", 0), "СуммаУпр": management_amount(order, line.get("Сумма", 0)),
        }
        for line in lines
    ]
    result = {ORDERS: [strip_empty(r) for r in orders_rows]}
    amount = order.get("СуммаДокумента", 0)
    if amount:
        deal, deal_type = order_settlement_deal(store, order)
        result[SETTLEMENTS] = [settlement_row(order, "Receipt", deal, deal_type, amount,
                                              order.get("ДоговорКонтрагента_Key"))]
    return result


def settlement_row(doc, record_type, deal, deal_type, amount, contract):
    counterparty = doc.get("Контрагент_Key") or doc.get("Контрагент")
    return {
        "Period": doc["Date"], "RecordType": record_type, "ДоговорКонтрагента_Key": contract,
        "Сделка": deal, "Сделка_Type": deal_type, "РасчетыВозврат": "Расчеты",
        "Организация_Key": doc.get("Организация_Key"), "Контрагент_Key": counterparty,
        "СуммаВзаиморасчетов": money(amount), "СуммаУпр": management_amount(doc, amount),
    }


def payment_movements(store, doc):
    if doc.get("ВидОперации", "ОплатаПокупателя") != "ОплатаПокупателя":
        return {}
    rows = []
    for line in doc.get("РасшифровкаПлатежа") or []:
        amount = line.get("СуммаВзаиморасчетов", 0)
        if not amount:
            continue
        row = settlement_row(doc, "Expense", line.get("Сделка", ""), line.get("Сделка_Type"), amount,
                             line.get("ДоговорКонтрагента_Key"))
        row["СуммаУпр"] = management_amount(line, amount)
        rows.append(row)
    return {SETTLEMENTS: rows}


def realization_movements(store, doc):
    rows = []
    header_order = doc.get("Сделка") if doc.get("Сделка_Type") == ORDER_TYPE else None
    for line in (doc.get("Товары") or []) + (doc.get("Услуги") or []):
        order_ref = line.get("ЗаказПокупателя_Key") or header_order
        if is_empty_ref(order_ref):
            continue
        rows.append(strip_empty({
            "Period": doc["Date"], "RecordType": "Expense", "ДоговорКонтрагента_Key": doc.get("ДоговорКонтрагента_Key"),
            "ЗаказПокупателя_Key": order_ref, "Номенклатура_Key": line.get("Номенклатура_Key"),
            "Цена": line.get("Цена", 0), "ЕдиницаИзмерения_Key": line.get("ЕдиницаИзмерения_Key"),
            "СтавкаНДС": line.get("СтавкаНДС", ""), "Количество": line.get("Количество", 0),
            "СуммаВзаиморасчетов": line.get("Сумма", 0), "СуммаУпр": management_amount(doc, line.get("Сумма", 0)),
        }))
    # A sale whose Сделка is an order writes nothing to РасчетыСКонтрагентами (reference §2.12).
    return {ORDERS: rows}


def closing_movements(store, doc):
    orders_rows, settlement_rows = [], []
    for line in doc.get("Заказы") or []:
        order = store.get(ORDER, line.get("ЗаказПокупателя"))
        if order is None or not order.get("Posted"):
            continue
        for key, (qty, amount) in order_remainder(store, order["Ref_Key"], exclude=doc["Ref_Key"]).items():
            if qty > 0 or amount > 0:
                row = dict(zip(ORDER_DIMENSIONS, key, strict=True))
                orders_rows.append(strip_empty({
                    "Period": doc["Date"], "RecordType": "Expense", **row, "Количество": qty,
                    "СуммаВзаиморасчетов": amount, "СуммаУпр": management_amount(order, amount),
                }))
        deal, deal_type = order_settlement_deal(store, order)
        debt = settlement_balance(store, deal, exclude=doc["Ref_Key"])
        if debt > 0:
            row = settlement_row(order, "Expense", deal, deal_type, debt, order.get("ДоговорКонтрагента_Key"))
            row["Period"] = doc["Date"]
            settlement_rows.append(row)
    return {ORDERS: orders_rows, SETTLEMENTS: settlement_rows}


def price_movements(store, doc):
    rows = []
    for line in doc.get("Товары") or []:
        rows.append(strip_empty({"Period": doc["Date"], **line}))
    return {PRICES: rows}


MOVEMENTS = {
    ORDER: order_movements,
    BANK: payment_movements,
    CASH: payment_movements,
    CARD: payment_movements,
    REALIZATION: realization_movements,
    CLOSING: closing_movements,
    PRICE_SETTING: price_movements,
    RECEIPT_OF_GOODS: lambda store, doc: {},
}


def strip_empty(row):
    return {k: v for k, v in row.items() if v is not None}


# ---------------------------------------------------------------- balances


def settlement_balance(store, deal, exclude=None):
    total = 0
    for row in store.deal_rows(SETTLEMENTS, deal):
        if row["Recorder"] != exclude and row.get("Active", True):
            sign = 1 if row["RecordType"] == "Receipt" else -1
            total += sign * row.get("СуммаВзаиморасчетов", 0)
    return money(total)


def order_remainder(store, order_ref, exclude=None):
    """{order dimensions: (quantity, amount)} still open in ЗаказыПокупателей."""
    sums = defaultdict(lambda: [0, 0])
    for row in store.deal_rows(ORDERS, order_ref):
        if row["Recorder"] == exclude or not row.get("Active", True):
            continue
        sign = 1 if row["RecordType"] == "Receipt" else -1
        key = tuple(row.get(k, "") for k in ORDER_DIMENSIONS)
        sums[key][0] += sign * row.get("Количество", 0)
        sums[key][1] += sign * row.get("СуммаВзаиморасчетов", 0)
    return {k: (round(q, 3), money(a)) for k, (q, a) in sums.items()}


# ---------------------------------------------------------------- post / unpost


def post(store, set_name, ref):
    with store.lock:
        doc = store.get(set_name, ref)
        if set_name == INVOICE:
            raise ODataError(500, "Документ \"Счет на оплату покупателю\" не может быть проведен")
        if doc is None:
            raise ODataError(404, "Экземпляр сущности не найден")
        if doc.get("DeletionMark"):
            raise ODataError(500, "Помеченный на удаление документ не может быть проведен")
        movements = MOVEMENTS[set_name](store, doc)
        for register in store.movements:
            if register in movements or ref in store.movements[register]:
                store.write_movements(register, set_name, ref, movements.get(register, []))
        store.update(set_name, ref, {"Posted": True})


def unpost(store, set_name, ref):
    with store.lock:
        store.clear_movements(ref)
        store.update(set_name, ref, {"Posted": False})


def repost_if_posted(store, set_name, ref):
    doc = store.get(set_name, ref)
    if doc is not None and doc.get("Posted"):
        post(store, set_name, ref)
