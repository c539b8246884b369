"""The seeded data set: counterparties, contacts, bank accounts, products, prices and orders in every state."""

import datetime as dt
import random

from ..mutations import COUNTERPARTIES, PRODUCTS, Operations
from ..posting import order_remainder
from ..schema import EMPTY_REF
from ..store import composite_type
from .addresses import Addresses
from .checkdigits import inn_legal, inn_person, settlement_account
from .names import Names
from .reference import build_reference

SIZES = {
    "small": {"counterparties": 30, "products": 30, "orders": 40, "banks": 8, "receipts": 4},
    "medium": {"counterparties": 2000, "products": 3000, "orders": 3000, "banks": 60, "receipts": 150},
    "large": {"counterparties": 20000, "products": 30000, "orders": 30000, "banks": 300, "receipts": 1500},
}


def _data_end() -> dt.datetime:
    """The data set ends a week before today, so a sync's date windows (90 days) always see recent documents;
    the same seed gives the same data on the same day."""
    today = dt.date.today()
    return dt.datetime(today.year, today.month, today.day, 18, 0, 0) - dt.timedelta(days=7)


END = _data_end()
START = END - dt.timedelta(days=680, hours=9)
ORDER_STATES = [("new", 22), ("invoiced", 10), ("partially_paid", 8), ("paid", 14), ("shipped_unpaid", 8),
                ("shipped_paid", 22), ("closed", 4), ("unposted", 5), ("deleted", 2), ("multiple", 5)]
CONTACT_INFO = "InformationRegister_КонтактнаяИнформация"
PERSONS = "Catalog_КонтактныеЛицаКонтрагентов"
PAYMENT_KINDS = ["bank", "bank", "bank", "cash", "card"]


def iso(moment):
    return moment.replace(microsecond=0).isoformat()


class DatasetBuilder:
    """Builds the whole infobase into a Store; records the hard cases and the defective records."""

    def __init__(self, store, seed=1, size="small"):
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}: choose one of {', '.join(SIZES)}")
        self.store = store
        self.size = SIZES[size]
        self.rng = random.Random(seed)
        self.names = Names(self.rng)
        self.addresses = Addresses(self.rng)
        self.refs = build_reference(store, self.rng, self.size["banks"])
        self.ops = Operations(store, self.refs)
        self.cases = {}
        self.bad_records = []
        self.folders = {}
        self.prices = {}  # product ref -> wholesale price

    # ------------------------------------------------------------ bookkeeping

    def case(self, name, ref):
        self.cases.setdefault(name, []).append(ref)

    def bad(self, entity_set, obj, defect):
        self.bad_records.append({
            "entity_set": entity_set, "ref": obj["Ref_Key"], "code": obj.get("Code") or obj.get("Number", ""),
            "name": obj.get("Description", obj.get("Number", "")), "defect": defect,
        })

    def moment(self, fraction, jitter_days=0.0):
        span = (END - START).total_seconds()
        offset = span * fraction + jitter_days * 86400 * self.rng.random()
        return min(START + dt.timedelta(seconds=offset), END)

    def later(self, date_text, days):
        moment = dt.datetime.fromisoformat(date_text) + dt.timedelta(days=days, minutes=self.rng.randint(5, 600))
        return iso(min(moment, END + dt.timedelta(days=5)))

    # ------------------------------------------------------------ counterparties

    def build_folders(self):
        make = self.ops.create_folder
        buyers = make(COUNTERPARTIES, "Покупатели")
        self.folders["buyers"] = buyers["Ref_Key"]
        self.folders["moscow"] = make(COUNTERPARTIES, "Москва и область", buyers["Ref_Key"])["Ref_Key"]
        self.folders["regions"] = make(COUNTERPARTIES, "Регионы", buyers["Ref_Key"])["Ref_Key"]
        self.folders["suppliers"] = make(COUNTERPARTIES, "Поставщики")["Ref_Key"]
        self.folders["retail"] = make(COUNTERPARTIES, "Розничные покупатели")["Ref_Key"]
        self.folders["goods"] = make(PRODUCTS, "Товары")["Ref_Key"]
        self.folders["services"] = make(PRODUCTS, "Услуги")["Ref_Key"]
        self.folders["electric"] = make(PRODUCTS, "Электротовары", self.folders["goods"])["Ref_Key"]

    def tax_code(self, region):
        return {"Москва г": "77", "Санкт-Петербург г": "78", "Московская обл": "50"}.get(
            region[0], str(self.rng.randint(10, 89))) + str(self.rng.randint(1, 50)).zfill(2)

    def legal_requisites(self, region):
        tax = self.tax_code(region)
        inn = inn_legal(tax + str(self.rng.randint(10000, 99999)))
        kpp = tax + "01" + str(self.rng.randint(1, 3)).zfill(3)
        return inn, kpp

    def new_legal(self, parent=None, region=None, contact_persons=None, supplier=False):
        region = region or self.addresses.region()
        short, full = self.names.company()
        inn, kpp = self.legal_requisites(region)
        obj = self.ops.create_counterparty(
            short, full, inn, kpp, "ЮрЛицо", parent=parent or self.folders["regions"],
            manager=self.rng.choice(self.refs["users"][1:]), КодПоОКПО=str(self.rng.randint(10**7, 10**8 - 1)),
            Поставщик=supplier, Комментарий="",
        )
        domain = self.addresses.company_domain(short.split('"')[1] if '"' in short else short)
        self.add_addresses(obj, region)
        self.add_contact(obj, "Телефон", "000000005", self.addresses.phone(region[3]))
        self.add_contact(obj, "АдресЭлектроннойПочты", self.rng.choice(["000000013", "000000030"]),
                         self.addresses.email("info", domain))
        self.add_bank_account(obj)
        count = self.rng.choice([0, 1, 1, 2, 3]) if contact_persons is None else contact_persons
        for _ in range(count):
            self.add_contact_person(obj, domain)
        return self.store.get(COUNTERPARTIES, obj["Ref_Key"])

    def new_ip(self, parent=None):
        region = self.addresses.region()
        last, first, middle = self.names.person()
        inn = inn_person(self.tax_code(region) + str(self.rng.randint(100000, 999999)))
        obj = self.ops.create_counterparty(
            f"ИП {last} {first} {middle}", f"Индивидуальный предприниматель {last} {first} {middle}", inn, "",
            "ФизЛицо", parent=parent or self.folders["regions"], manager=self.rng.choice(self.refs["users"][1:]),
        )
        self.add_addresses(obj, region)
        self.add_contact(obj, "Телефон", "000000005", self.addresses.phone(mobile=True))
        self.add_contact(obj, "АдресЭлектроннойПочты", "000000013", self.addresses.email(last))
        self.add_bank_account(obj)
        return obj

    def new_person(self):
        last, first, middle = self.names.person()
        obj = self.ops.create_counterparty(
            f"{last} {first} {middle}", f"{last} {first} {middle}", "", "", "ФизЛицо", parent=self.folders["retail"],
            ДокументУдостоверяющийЛичность=f"Паспорт гражданина РФ, серия {self.rng.randint(1000, 9999)} "
                                           f"№ {self.rng.randint(100000, 999999)}",
        )
        self.add_contact(obj, "Телефон", "000000005", self.addresses.phone(mobile=True))
        if self.rng.random() < 0.7:
            self.add_contact(obj, "АдресЭлектроннойПочты", "000000030", self.addresses.email(last))
        return obj

    def add_contact(self, obj, type_name, kind_code, value, object_set=COUNTERPARTIES, fields=None):
        row = self.ops.contact_row(object_set, obj["Ref_Key"], type_name, kind_code, value, fields)
        self.store.add_info_row(CONTACT_INFO, row)
        return row

    def add_addresses(self, obj, region):
        text, fields = self.addresses.address(region)
        self.add_contact(obj, "Адрес", "000000001", text, fields=fields)
        if self.rng.random() < 0.6:
            text, fields = self.addresses.address(region)
        self.add_contact(obj, "Адрес", "000000002", text, fields=fields)
        if self.rng.random() < 0.2:
            text, fields = self.addresses.address(region)
            self.add_contact(obj, "Адрес", "000000014", text, fields=fields)

    def add_bank_account(self, owner, currency="643", bank=None, number=None):
        bank = bank or self.store.get("Catalog_Банки", self.rng.choice(self.refs["banks"]))
        code = {"643": "810", "840": "840", "978": "978"}[currency]
        number = number or settlement_account(bank["Code"], f"40702{code}" + str(self.rng.randint(10**11, 10**12 - 1)))
        account = self.store.put("Catalog_БанковскиеСчета", {
            "Owner": owner["Ref_Key"], "Owner_Type": composite_type(COUNTERPARTIES),
            "Code": self.store.next_code("Catalog_БанковскиеСчета"),
            "Description": f"{number}, {bank['Description']}"[:100], "НомерСчета": number, "Банк_Key": bank["Ref_Key"],
            "ВалютаДенежныхСредств_Key": self.refs["currency"][currency],
            "ВидСчета": "Расчетный" if currency == "643" else "Валютный", "ДатаОткрытия": "2020-03-12T00:00:00",
        })
        if is_unset(owner.get("ОсновнойБанковскийСчет_Key")):
            owner["ОсновнойБанковскийСчет_Key"] = account["Ref_Key"]
        return account

    def add_contact_person(self, owner, domain, with_card=False):
        last, first, middle = self.names.person()
        card = EMPTY_REF
        if with_card:
            card = self.store.put("Catalog_КонтактныеЛица", {
                "Code": self.store.next_code("Catalog_КонтактныеЛица"), "Description": f"{last} {first} {middle}",
                "Фамилия": last, "Имя": first, "Отчество": middle, "ДатаРождения": "1984-05-17T00:00:00",
                "Пол": "Женский" if middle.endswith("на") else "Мужской",
            })["Ref_Key"]
        person = self.store.put(PERSONS, {
            "Owner_Key": owner["Ref_Key"], "Code": self.store.next_code(PERSONS),
            "Description": f"{last} {first} {middle}", "КонтактноеЛицо_Key": card,
            "Должность": self.rng.choice(["Директор", "Менеджер по закупкам", "Главный бухгалтер", "Снабженец"]),
        })
        self.add_contact(person, "Телефон", "000000016", self.addresses.phone(mobile=True), PERSONS)
        self.add_contact(person, "АдресЭлектроннойПочты", "000000023",
                         self.addresses.email(last, domain), PERSONS)
        if is_unset(owner.get("ОсновноеКонтактноеЛицо_Key")):
            owner["ОсновноеКонтактноеЛицо_Key"] = person["Ref_Key"]
        return person

    def build_counterparties(self, count):
        buyers = []
        for i in range(count):
            roll = self.rng.random()
            if roll < 0.7:
                parent = self.folders["moscow"] if self.rng.random() < 0.3 else self.folders["regions"]
                buyers.append(self.new_legal(parent=parent))
            elif roll < 0.85:
                buyers.append(self.new_ip())
            elif roll < 0.95:
                buyers.append(self.new_person())
            else:
                self.new_legal(parent=self.folders["suppliers"], supplier=True)
            if i % 5 == 4 and buyers:  # some buyers have a second contract
                self.ops.create_contract(buyers[-1]["Ref_Key"], "643", self.rng.choice(["ПоДоговоруВЦелом",
                                                                                         "ПоЗаказам"]))
        if not any(o.get("Поставщик") for o in self.store.objects[COUNTERPARTIES].values()):
            for _ in range(2):  # every data set has suppliers (for ПоступлениеТоваровУслуг)
                self.new_legal(parent=self.folders["suppliers"], supplier=True)
        return buyers

    # ------------------------------------------------------------ products and prices

    def new_product(self, service=False, parent=None, **extra):
        if service:
            name, unit = self.names.service(), "356"
        else:
            name, unit = self.names.product()
        article = f"АРТ-{self.rng.randint(10000, 99999)}"
        return self.ops.create_product(
            name, service=service, unit_code=unit, article=article,
            parent=parent or (self.folders["services"] if service else self.folders["goods"]),
            full_name=f"{name} ({article})", vat=self.rng.choice(["НДС18", "НДС18", "НДС20", "НДС10"]) if not service
            else "НДС18", **extra,
        )

    def build_products(self, count):
        products = [self.new_product(service=self.rng.random() < 0.1) for _ in range(count)]
        self.price_products(products, self.moment(0.0))
        changed = [p for p in products if self.rng.random() < 0.25]
        self.price_products(changed, self.moment(0.5), kinds=("Оптовая",), factor=1.08)
        return products

    def price_products(self, products, moment, kinds=("Закупочная", "Оптовая", "Розничная"), factor=1.0):
        batch = []
        for product in products:
            base = self.prices.get(product["Ref_Key"]) or self.rng.randint(50, 20000)
            wholesale = round(base * factor, 2)
            self.prices[product["Ref_Key"]] = wholesale
            values = {"Закупочная": round(wholesale * 0.7, 2), "Оптовая": wholesale,
                      "Розничная": round(wholesale * 1.3)}
            batch += [(product["Ref_Key"], kind, values[kind], None, 0) for kind in kinds]
        for start in range(0, len(batch), 600):
            self.ops.set_prices(batch[start:start + 600], iso(moment), "Плановая установка цен")

    def build_receipts(self, count, products, suppliers):
        goods = [p for p in products if not p.get("Услуга")]
        for i in range(count):
            if not suppliers or not goods:
                return
            supplier = self.rng.choice(suppliers)
            lines = []
            for product in self.rng.sample(goods, min(len(goods), self.rng.randint(1, 4))):
                qty = self.rng.randint(5, 100)
                price = round(self.prices.get(product["Ref_Key"], 100) * 0.7, 2)
                lines.append({"Номенклатура_Key": product["Ref_Key"], "Количество": qty, "Цена": price,
                              "Сумма": round(qty * price, 2), "Коэффициент": 1, "СтавкаНДС": product.get("СтавкаНДС"),
                              "ЕдиницаИзмерения_Key": product.get("ЕдиницаХраненияОстатков_Key")})
            doc = self.ops.new_document(
                "Document_ПоступлениеТоваровУслуг", iso(self.moment(i / max(count, 1), 2)),
                Контрагент_Key=supplier["Ref_Key"], ДоговорКонтрагента_Key=supplier["ОсновнойДоговорКонтрагента_Key"],
                ВалютаДокумента_Key=self.refs["currency"]["643"], КурсВзаиморасчетов=1, КратностьВзаиморасчетов=1,
                СуммаДокумента=round(sum(r["Сумма"] for r in lines), 2), СуммаВключаетНДС=True, УчитыватьНДС=True,
                ВидПоступления="НаСклад", НомерВходящегоДокумента=str(self.rng.randint(1, 9999)), Товары=lines,
            )
            self.ops.post("Document_ПоступлениеТоваровУслуг", doc["Ref_Key"])

    # ------------------------------------------------------------ orders

    def order_lines(self, products, count=None):
        count = count or self.rng.choice([1, 1, 2, 2, 3, 4, 5])
        chosen = self.rng.sample(products, min(len(products), count))
        return [{"product": p["Ref_Key"], "quantity": self.rng.choice([1, 1, 2, 3, 5, 10, 12, 50]),
                 "price": self.prices.get(p["Ref_Key"], 1000)} for p in chosen]

    def build_orders(self, count, buyers, products):
        live_products = [p for p in products if not p.get("DeletionMark")]
        states, weights = zip(*ORDER_STATES, strict=True)
        for i in range(count):
            buyer = self.rng.choice(buyers)
            state = self.rng.choices(states, weights)[0]
            date = iso(self.moment(i / max(count, 1), 1))
            order = self.ops.create_order(buyer["Ref_Key"], self.order_lines(live_products), date=date,
                                          posted=state != "unposted")
            self.advance_order(order, state)

    def advance_order(self, order, state):
        ref, date = order["Ref_Key"], order["Date"]
        kind = self.rng.choice(PAYMENT_KINDS)
        if state == "invoiced":
            self.ops.create_invoice(ref, self.later(date, 0))
        elif state == "partially_paid":
            self.ops.create_invoice(ref, self.later(date, 0))
            self.ops.create_payment(ref, kind, amount=round(order["СуммаДокумента"] * 0.4, 2), date=self.later(date, 2))
        elif state == "paid":
            self.ops.create_payment(ref, kind, date=self.later(date, 2))
        elif state == "shipped_unpaid":
            self.ops.create_realization(ref, date=self.later(date, 3))
        elif state == "shipped_paid":
            self.ops.create_invoice(ref, self.later(date, 0))
            self.ops.create_payment(ref, kind, date=self.later(date, 1))
            self.ops.create_realization(ref, date=self.later(date, 3))
        elif state == "closed":
            self.ops.close_order(ref, self.later(date, 10))
        elif state == "deleted":
            self.ops.set_deletion_mark("Document_ЗаказПокупателя", ref, True)
        elif state == "multiple":
            self.ship_in_two_parts(order)

    def ship_in_two_parts(self, order):
        first = (order.get("Товары") or order.get("Услуги"))[0]
        half = max(1, int(first["Количество"] // 2)) if first["Количество"] >= 2 else first["Количество"]
        self.ops.create_realization(order["Ref_Key"], [{"product": first["Номенклатура_Key"], "quantity": half}],
                                    date=self.later(order["Date"], 2))
        if any(qty > 0 for qty, _ in order_remainder(self.store, order["Ref_Key"]).values()):
            self.ops.create_realization(order["Ref_Key"], date=self.later(order["Date"], 6))

    # ------------------------------------------------------------ everything

    def build(self):
        from .cases import build_cases

        self.build_folders()
        products = self.build_products(self.size["products"])
        buyers = self.build_counterparties(self.size["counterparties"])
        suppliers = [o for o in self.store.objects[COUNTERPARTIES].values() if o.get("Поставщик")]
        self.build_receipts(self.size["receipts"], products, suppliers)
        self.build_orders(self.size["orders"], buyers, products)
        build_cases(self, buyers, products)
        return self


def is_unset(value):
    return not value or value == EMPTY_REF
