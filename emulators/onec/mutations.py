"""What a 1С user does: create/edit objects and documents, post, mark for deletion (used by generator and API)."""

import datetime as dt

from . import posting
from .errors import ODataError, bad_request
from .posting import INVOICE, ORDER, ORDER_TYPE, money
from .schema import EMPTY_REF
from .store import composite_type

COUNTERPARTIES = "Catalog_Контрагенты"
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
PRODUCTS = "Catalog_Номенклатура"
UNITS = "Catalog_ЕдиницыИзмерения"
CONTACT_INFO = "InformationRegister_КонтактнаяИнформация"
PRICE_TYPES = "Catalog_ТипыЦенНоменклатуры"
RATES = {"643": 1, "840": 92.5, "978": 100.2}
VAT_RATES = {"НДС18": 18, "НДС20": 20, "НДС10": 10, "НДС0": 0, "БезНДС": 0}
CONTACT_TYPES = ("Телефон", "АдресЭлектроннойПочты", "Адрес", "Факс", "ВебСтраница", "Другое")
PAYMENT_KINDS = {"bank": posting.BANK, "cash": posting.CASH, "card": posting.CARD}


def now_local():
    return dt.datetime.now().replace(microsecond=0).isoformat()


def vat_of(amount, rate_name):
    rate = VAT_RATES.get(rate_name, 0)
    return money(amount * rate / (100 + rate))


class Operations:
    """Domain actions over a Store; refs holds the reference data made by the generator."""

    def __init__(self, store, refs):
        self.store = store
        self.refs = refs

    # ------------------------------------------------------------ helpers

    def require(self, set_name, ref):
        obj = self.store.get(set_name, ref)
        if obj is None:
            raise ODataError(404, f"Экземпляр сущности не найден: {set_name}({ref})")
        return obj

    def currency_code(self, currency_ref):
        for code, ref in self.refs["currency"].items():
            if ref == currency_ref:
                return code
        return "643"

    def rate_fields(self, currency_ref):
        return {"КурсВзаиморасчетов": RATES.get(self.currency_code(currency_ref), 1), "КратностьВзаиморасчетов": 1}

    def new_document(self, set_name, date, organization=None, **fields):
        org_ref = organization or self.refs["organizations"][0]
        prefix = self.refs["prefixes"].get(org_ref, "")
        doc = {
            "Ref_Key": self.store.new_ref(), "Number": self.store.next_number(set_name, prefix),
            "Date": date or now_local(), "Posted": False, "Организация_Key": org_ref,
            "Ответственный_Key": self.refs["users"][0], **fields,
        }
        return self.store.put(set_name, doc)

    # ------------------------------------------------------------ counterparties

    def create_folder(self, set_name, name, parent=None):
        return self.store.put(set_name, {
            "Code": self.store.next_code(set_name), "Description": name, "IsFolder": True,
            "Parent_Key": parent or EMPTY_REF,
        })

    def create_counterparty(self, name, full_name=None, inn="", kpp="", kind="ЮрЛицо", phone=None, email=None,
                            parent=None, manager=None, **extra):
        if kind not in ("ЮрЛицо", "ФизЛицо"):
            raise bad_request(f"Неверное значение перечисления ЮрФизЛицо: '{kind}'")
        ref = self.store.new_ref()
        contract = self.create_contract(ref, "643", "ПоЗаказам")
        obj = self.store.put(COUNTERPARTIES, {
            "Ref_Key": ref, "Code": self.store.next_code(COUNTERPARTIES), "Description": name,
            "Parent_Key": parent or EMPTY_REF, "IsFolder": False,
            "НаименованиеПолное": name if full_name is None else full_name, "ИНН": inn or "", "КПП": kpp or "",
            "ЮрФизЛицо": kind, "Покупатель": True, "ОсновнойДоговорКонтрагента_Key": contract["Ref_Key"],
            "ОсновнойМенеджерПокупателя_Key": manager or self.refs["users"][0], **extra,
        })
        if phone:
            self.store.add_info_row(CONTACT_INFO, self.contact_row(COUNTERPARTIES, ref, "Телефон", "000000005", phone))
        if email:
            self.store.add_info_row(CONTACT_INFO, self.contact_row(
                COUNTERPARTIES, ref, "АдресЭлектроннойПочты", "000000013", email))
        return obj

    def create_contract(self, owner_ref, currency_code="643", settlement="ПоЗаказам", organization=None,
                        name=None, date="2024-01-09T00:00:00"):
        number = f"{len(self.store.objects[CONTRACTS]) + 1:05d}"
        return self.store.put(CONTRACTS, {
            "Owner_Key": owner_ref, "Parent_Key": EMPTY_REF, "IsFolder": False,
            "Code": self.store.next_code(CONTRACTS),
            "Description": name or f"Основной договор № {number}" + (" (USD)" if currency_code == "840" else ""),
            "ВидДоговора": "СПокупателем", "ВедениеВзаиморасчетов": settlement,
            "ВалютаВзаиморасчетов_Key": self.refs["currency"][currency_code],
            "Организация_Key": organization or self.refs["organizations"][0], "Номер": number, "Дата": date,
            "ТипЦен": self.refs["price_types"]["Оптовая"], "ТипЦен_Type": composite_type(PRICE_TYPES),
            "РасчетыВУсловныхЕдиницах": currency_code != "643",
        })

    def patch(self, set_name, ref, changes):
        """Change attributes given by OData name or by 1С attribute name (Банк -> Банк_Key)."""
        self.require(set_name, ref)
        es = self.store.schema[set_name]
        changes = {(k + "_Key" if es.prop(k) is None and es.prop(k + "_Key") else k): v for k, v in changes.items()}
        unknown = [k for k in changes if es.prop(k) is None and k not in es.tables]
        if unknown or "Ref_Key" in changes or "DataVersion" in changes:
            raise bad_request(f"Неизвестные или неизменяемые реквизиты: {', '.join(unknown) or 'Ref_Key'}")
        return self.store.update(set_name, ref, dict(changes))

    def contact_row(self, object_set, ref, type_name, kind_code, value, fields=None, comment=""):
        kind_ref = self.refs["contact_kinds"].get(kind_code)
        if kind_ref is None:
            raise bad_request(f"Не найден вид контактной информации с кодом {kind_code}")
        if type_name not in CONTACT_TYPES:
            raise bad_request(f"Неверное значение перечисления ТипыКонтактнойИнформации: '{type_name}'")
        return {
            "Объект": ref, "Объект_Type": composite_type(object_set), "Тип": type_name, "Вид": kind_ref,
            "Вид_Type": "StandardODATA.Catalog_ВидыКонтактнойИнформации", "Представление": value,
            "Комментарий": comment, "ЗначениеПоУмолчанию": True,
            **(phone_fields(type_name, value) if fields is None else fields),
        }

    def set_contact_info(self, object_set, ref, type_name, kind_code, value, fields=None, comment=""):
        """Replace the value of one contact kind of an object; the object is re-saved as the 1С form does."""
        self.require(object_set, ref)
        row = self.contact_row(object_set, ref, type_name, kind_code, value, fields, comment)
        kind_ref = row["Вид"]
        with self.store.lock:
            self.store.replace_info_rows(
                CONTACT_INFO, lambda r: r["Объект"] == ref and r["Вид"] == kind_ref and r["Тип"] == type_name, [row])
            self.store.update(object_set, ref, {})
        return row

    # ------------------------------------------------------------ products and prices

    def create_product(self, name, service=False, unit_code="796", parent=None, vat="НДС18", article="",
                       full_name=None, **extra):
        classifier = self.refs["units"].get(unit_code)
        if classifier is None:
            raise bad_request(f"Не найдена единица измерения по классификатору с кодом {unit_code}")
        ref = self.store.new_ref()
        unit = self.store.put(UNITS, {
            "Owner": ref, "Owner_Type": composite_type(PRODUCTS), "Code": self.store.next_code(UNITS),
            "Description": self.refs["unit_names"][unit_code], "ЕдиницаПоКлассификатору_Key": classifier,
            "Коэффициент": 1,
        })
        return self.store.put(PRODUCTS, {
            "Ref_Key": ref, "Code": self.store.next_code(PRODUCTS), "Description": name,
            "Parent_Key": parent or EMPTY_REF, "IsFolder": False,
            "НаименованиеПолное": name if full_name is None else full_name, "Артикул": article,
            "Услуга": bool(service), "БазоваяЕдиницаИзмерения_Key": classifier,
            "ЕдиницаХраненияОстатков_Key": unit["Ref_Key"], "ЕдиницаДляОтчетов_Key": unit["Ref_Key"],
            "СтавкаНДС": vat, **extra,
        })

    def price_type_ref(self, value):
        if value in self.refs["price_types"]:
            return self.refs["price_types"][value]
        if self.store.get(PRICE_TYPES, value) is None:
            raise bad_request(f"Не найден тип цен '{value}'")
        return value

    def set_prices(self, items, date=None, comment=""):
        """items: [(product ref, price type ref or name, price, currency code or None, percent)]."""
        lines = []
        for product_ref, price_type, price, currency, percent in items:
            product = self.require(PRODUCTS, product_ref)
            type_ref = self.price_type_ref(price_type)
            currency_ref = (self.refs["currency"].get(currency) if currency
                            else self.store.get(PRICE_TYPES, type_ref).get("ВалютаЦены_Key"))
            if currency_ref is None:
                raise bad_request(f"Не найдена валюта '{currency}'")
            lines.append({
                "Номенклатура_Key": product_ref, "ТипЦен_Key": type_ref, "Цена": money(float(price)),
                "Валюта_Key": currency_ref, "ЕдиницаИзмерения_Key": product.get("ЕдиницаХраненияОстатков_Key"),
                "ПроцентСкидкиНаценки": percent or 0,
            })
        doc = self.new_document(posting.PRICE_SETTING, date, Комментарий=comment, Товары=lines)
        posting.post(self.store, posting.PRICE_SETTING, doc["Ref_Key"])
        return doc

    # ------------------------------------------------------------ orders

    def order_lines(self, lines):
        goods, services = [], []
        for i, line in enumerate(lines, 1):
            product = self.require(PRODUCTS, line["product"])
            price = line.get("price")
            quantity = float(line.get("quantity", 1))
            price = float(self.current_price(product["Ref_Key"]) if price is None else price)
            amount = money(quantity * price)
            row = {
                "Номенклатура_Key": product["Ref_Key"], "Количество": money(quantity), "Цена": money(price),
                "Сумма": amount, "СтавкаНДС": product.get("СтавкаНДС", "НДС18"),
                "СуммаНДС": vat_of(amount, product.get("СтавкаНДС", "НДС18")),
            }
            if product.get("Услуга"):
                services.append({**row, "Содержание": product.get("Description", "")})
            else:
                goods.append({**row, "ЕдиницаИзмерения_Key": product.get("ЕдиницаХраненияОстатков_Key"),
                              "Коэффициент": 1, "КлючСтроки": i})
        return goods, services

    def current_price(self, product_ref, price_type="Оптовая"):
        """Latest price of a product for a price type (0 when there is none)."""
        type_ref = self.refs["price_types"][price_type]
        rows = [r for r in self.store.deal_rows(posting.PRICES, product_ref) if r.get("ТипЦен_Key") == type_ref]
        return max(rows, key=lambda r: r["Period"])["Цена"] if rows else 0

    def create_order(self, counterparty, lines, contract=None, posted=True, date=None, manager=None, comment="",
                     delivery_address=""):
        party = self.require(COUNTERPARTIES, counterparty)
        contract_ref = contract or party.get("ОсновнойДоговорКонтрагента_Key")
        contract_obj = self.require(CONTRACTS, contract_ref)
        goods, services = self.order_lines(lines)
        currency = contract_obj.get("ВалютаВзаиморасчетов_Key")
        date = date or now_local()
        doc = self.new_document(
            ORDER, date, organization=contract_obj.get("Организация_Key"), Контрагент_Key=counterparty,
            ДоговорКонтрагента_Key=contract_ref, ВалютаДокумента_Key=currency, **self.rate_fields(currency),
            СуммаДокумента=money(sum(r["Сумма"] for r in goods + services)), СуммаВключаетНДС=True,
            УчитыватьНДС=True, ТипЦен_Key=self.refs["price_types"]["Оптовая"],
            Ответственный_Key=manager or party.get("ОсновнойМенеджерПокупателя_Key"),
            КонтактноеЛицоКонтрагента_Key=party.get("ОсновноеКонтактноеЛицо_Key", EMPTY_REF),
            ДатаОплаты=date[:10] + "T00:00:00", ДатаОтгрузки=date[:10] + "T00:00:00", Комментарий=comment,
            АдресДоставки=delivery_address, Товары=goods, Услуги=services,
        )
        if posted:
            posting.post(self.store, ORDER, doc["Ref_Key"])
        return self.store.get(ORDER, doc["Ref_Key"])

    def create_invoice(self, order_ref, date=None):
        order = self.require(ORDER, order_ref)
        copy = ("Контрагент_Key", "ДоговорКонтрагента_Key", "ВалютаДокумента_Key", "КурсВзаиморасчетов",
                "КратностьВзаиморасчетов", "СуммаДокумента", "СуммаВключаетНДС", "УчитыватьНДС", "ТипЦен_Key",
                "Ответственный_Key", "ДатаОплаты", "ДатаОтгрузки", "АдресДоставки")
        fields = {k: order[k] for k in copy if k in order}
        fields["Контрагент"] = fields.pop("Контрагент_Key", EMPTY_REF)
        fields["Контрагент_Type"] = composite_type(COUNTERPARTIES)
        goods = [{**r, "ЗаказПокупателя_Key": order_ref} for r in order.get("Товары") or []]
        services = [{**r, "ЗаказПокупателя_Key": order_ref} for r in order.get("Услуги") or []]
        doc = self.new_document(INVOICE, date or now_local(),
                                organization=order.get("Организация_Key"), ЗаказПокупателя_Key=order_ref,
                                Товары=goods, Услуги=services, **fields)
        self.store.invoices_by_order[order_ref].append(doc["Ref_Key"])
        posting.repost_if_posted(self.store, ORDER, order_ref)
        return doc

    def latest_invoice(self, order_ref):
        for inv_ref in reversed(self.store.invoices_by_order.get(order_ref, [])):
            invoice = self.store.get(INVOICE, inv_ref)
            if invoice and not invoice.get("DeletionMark"):
                return invoice
        return None

    def create_payment(self, order_ref, kind="bank", against="order", amount=None, date=None):
        order = self.require(ORDER, order_ref)
        if kind not in PAYMENT_KINDS:
            raise bad_request(f"Неизвестный вид оплаты '{kind}' (bank, cash, card)")
        if against == "invoice":
            invoice = self.latest_invoice(order_ref) or self.create_invoice(order_ref, date)
            deal, deal_type = invoice["Ref_Key"], composite_type(INVOICE)
        elif against == "order":
            deal, deal_type = order_ref, ORDER_TYPE
        else:
            raise bad_request(f"Неверное значение against '{against}' (order, invoice)")
        if amount is None:
            own_deal, _ = posting.order_settlement_deal(self.store, order)
            amount = posting.settlement_balance(self.store, own_deal)
            if amount <= 0:
                raise bad_request("Заказ полностью оплачен: сумма к оплате равна нулю")
        set_name = PAYMENT_KINDS[kind]
        doc = self.new_document(set_name, date, organization=order.get("Организация_Key"),
                                **self.payment_fields(set_name, order, money(float(amount)), deal, deal_type, date))
        posting.post(self.store, set_name, doc["Ref_Key"])
        return self.store.get(set_name, doc["Ref_Key"])

    def payment_fields(self, set_name, order, amount, deal, deal_type, date):
        line = {
            "ДоговорКонтрагента_Key": order["ДоговорКонтрагента_Key"], "Сделка": deal, "Сделка_Type": deal_type,
            "СуммаПлатежа": amount, "СуммаВзаиморасчетов": amount,
            "КурсВзаиморасчетов": order.get("КурсВзаиморасчетов", 1), "КратностьВзаиморасчетов": 1,
            "СтавкаНДС": "НДС18", "СуммаНДС": vat_of(amount, "НДС18"),
        }
        fields = {
            "ВидОперации": "ОплатаПокупателя", "ДоговорКонтрагента_Key": order["ДоговорКонтрагента_Key"],
            "ВалютаДокумента_Key": order.get("ВалютаДокумента_Key"), "СуммаДокумента": amount,
            "КурсВзаиморасчетов": order.get("КурсВзаиморасчетов", 1), "КратностьВзаиморасчетов": 1,
            "РасшифровкаПлатежа": [line], "Комментарий": "",
        }
        counterparty = order["Контрагент_Key"]
        if set_name == posting.CASH:
            party = self.store.get(COUNTERPARTIES, counterparty) or {}
            fields.update(Контрагент=counterparty, Контрагент_Type=composite_type(COUNTERPARTIES),
                          ПринятоОт=party.get("Description", ""), Основание=f"Оплата по заказу {order['Number']}",
                          Оплачено=True, ОтраженоВОперУчете=True)
        elif set_name == posting.BANK:
            fields.update(Контрагент_Key=counterparty, Оплачено=True, ОтраженоВОперУчете=True,
                          ДатаОплаты=date or now_local(), НомерВходящегоДокумента=str(self.store.rng.randint(1, 9999)),
                          НазначениеПлатежа=f"Оплата по заказу № {order['Number']}, в т.ч. НДС")
        else:
            fields.update(Контрагент_Key=counterparty)
        return fields

    def create_realization(self, order_ref, lines=None, date=None):
        order = self.require(ORDER, order_ref)
        if not order.get("Posted"):
            raise bad_request("Заказ не проведен: отгрузка невозможна")
        remainder = posting.order_remainder(self.store, order_ref)
        wanted = {line["product"]: float(line["quantity"]) for line in lines} if lines else None
        goods, services = [], []
        for key, (qty, amount) in remainder.items():
            dims = dict(zip(posting.ORDER_DIMENSIONS, key, strict=True))
            product_ref = dims["Номенклатура_Key"]
            take = qty if wanted is None else min(qty, wanted.pop(product_ref, 0))
            if take <= 0:
                continue
            sum_ = amount if take == qty else money(take * dims["Цена"])
            row = {"Номенклатура_Key": product_ref, "Количество": take, "Цена": dims["Цена"], "Сумма": sum_,
                   "СтавкаНДС": dims["СтавкаНДС"], "СуммаНДС": vat_of(sum_, dims["СтавкаНДС"]),
                   "ЗаказПокупателя_Key": order_ref}
            product = self.store.get(PRODUCTS, product_ref) or {}
            if product.get("Услуга"):
                services.append({**row, "Содержание": product.get("Description", "")})
            else:
                goods.append({**row, "ЕдиницаИзмерения_Key": dims["ЕдиницаИзмерения_Key"], "Коэффициент": 1})
        if not goods and not services:
            raise bad_request("Нет неотгруженных строк заказа")
        total = money(sum(r["Сумма"] for r in goods + services))
        doc = self.new_document(
            posting.REALIZATION, date, organization=order.get("Организация_Key"), ВидОперации="ПродажаКомиссия",
            Контрагент_Key=order["Контрагент_Key"], ДоговорКонтрагента_Key=order["ДоговорКонтрагента_Key"],
            Сделка=order_ref, Сделка_Type=ORDER_TYPE, ВалютаДокумента_Key=order.get("ВалютаДокумента_Key"),
            КурсВзаиморасчетов=order.get("КурсВзаиморасчетов", 1), КратностьВзаиморасчетов=1,
            СуммаДокумента=total, СуммаВключаетНДС=True, УчитыватьНДС=True, ТипЦен_Key=order.get("ТипЦен_Key"),
            ОтражатьВУправленческомУчете=True, ОтражатьВБухгалтерскомУчете=True, Товары=goods, Услуги=services,
        )
        posting.post(self.store, posting.REALIZATION, doc["Ref_Key"])
        return self.store.get(posting.REALIZATION, doc["Ref_Key"])

    def close_order(self, order_ref, date=None):
        order = self.require(ORDER, order_ref)
        doc = self.new_document(
            posting.CLOSING, date, organization=order.get("Организация_Key"), ВидОперации="ЗакрытиеЗаказов",
            Заказы=[{"ЗаказПокупателя": order_ref, "ЗаказПокупателя_Type": ORDER_TYPE}],
        )
        posting.post(self.store, posting.CLOSING, doc["Ref_Key"])
        return self.store.get(posting.CLOSING, doc["Ref_Key"])

    # ------------------------------------------------------------ deletion and unposting

    def set_deletion_mark(self, set_name, ref, value=True):
        obj = self.require(set_name, ref)
        with self.store.lock:
            if value and obj.get("Posted"):
                self.store.clear_movements(ref)
                self.store.update(set_name, ref, {"Posted": False, "DeletionMark": True})
            else:
                self.store.update(set_name, ref, {"DeletionMark": bool(value)})
            if set_name == INVOICE:
                posting.repost_if_posted(self.store, ORDER, obj.get("ЗаказПокупателя_Key"))
        return self.store.get(set_name, ref)

    def unpost(self, set_name, ref):
        obj = self.require(set_name, ref)
        if "Posted" not in self.store.schema[set_name].by_name:
            raise bad_request(f"Объект {set_name} не является документом")
        if obj.get("Posted"):
            posting.unpost(self.store, set_name, ref)
        return self.store.get(set_name, ref)

    def post(self, set_name, ref):
        posting.post(self.store, set_name, ref)
        return self.store.get(set_name, ref)


def phone_fields(type_name, value):
    """Поле1..Поле4 of a phone: country, city code, number, extension (reference §2.3)."""
    if type_name != "Телефон":
        return {}
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        return {"Поле1": "7", "Поле2": digits[1:4], "Поле3": digits[4:]}
    return {"Поле3": value}

