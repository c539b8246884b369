"""The named hard cases (GET /_emulator/cases) and the catalogue of defective records (/_emulator/bad-records)."""

import datetime as dt

from ..mutations import COUNTERPARTIES, PRODUCTS
from ..posting import ORDER
from ..store import composite_type
from .dataset import iso

BANKS = "Catalog_Банки"
ACCOUNTS = "Catalog_БанковскиеСчета"


def build_cases(builder, buyers, products):
    CounterpartyCases(builder).build()
    product_cases = ProductCases(builder).build()
    OrderCases(builder, product_cases).build()


class CounterpartyCases:
    def __init__(self, builder):
        self.b = builder
        self.ops = builder.ops
        self.store = builder.store

    def build(self):
        b = self.b
        b.case("counterparty_folder", b.folders["buyers"])
        b.case("counterparty_folder", b.folders["moscow"])
        self.legal_full()
        ip = b.new_ip()
        b.case("counterparty_ip", ip["Ref_Key"])
        b.case("counterparty_person", b.new_person()["Ref_Key"])
        deleted = b.new_legal()
        self.ops.set_deletion_mark(COUNTERPARTIES, deleted["Ref_Key"], True)
        b.case("counterparty_deleted", deleted["Ref_Key"])
        b.bad(COUNTERPARTIES, deleted, "deleted_counterparty")
        bare = self.ops.create_counterparty('ООО "Без контактов"', 'Общество с ограниченной ответственностью '
                                            '"Без контактов"', *b.legal_requisites(b.addresses.region()))
        b.case("counterparty_no_contacts", bare["Ref_Key"])
        self.with_contact_persons()
        self.bad_requisites()
        self.bad_contacts()
        self.names()
        self.dangling()

    def legal_full(self):
        b = self.b
        full = b.new_legal(parent=b.folders["moscow"], contact_persons=2)
        b.add_contact(full, "Факс", "000000021", b.addresses.phone("495"))
        text, fields = b.addresses.address()
        b.add_contact(full, "Адрес", "000000014", text, fields=fields)
        b.add_bank_account(full, "643")
        usd = b.add_bank_account(full, "840")
        b.bad(ACCOUNTS, usd, "foreign_currency_account")
        b.case("counterparty_legal_full", full["Ref_Key"])
        b.refs["usd_buyer"] = full["Ref_Key"]

    def with_contact_persons(self):
        b = self.b
        obj = b.new_legal(contact_persons=0)
        for i in range(3):
            b.add_contact_person(obj, "kontakt-lica.ru", with_card=i == 0)
        b.case("counterparty_with_contact_persons", obj["Ref_Key"])

    def bad_requisites(self):
        b = self.b
        region = b.addresses.region()
        inn, kpp = b.legal_requisites(region)
        wrong = inn[:9] + str((int(inn[9]) + 1) % 10)
        obj = self.ops.create_counterparty('ООО "Ошибка ИНН"', 'ООО "Ошибка ИНН"', wrong, kpp)
        b.case("bad_inn", obj["Ref_Key"])
        b.bad(COUNTERPARTIES, obj, "inn_checksum")
        obj = self.ops.create_counterparty('ООО "Короткий ИНН"', 'ООО "Короткий ИНН"', inn[:9] + "12", kpp)
        b.case("bad_inn", obj["Ref_Key"])
        b.bad(COUNTERPARTIES, obj, "inn_length")
        obj = self.ops.create_counterparty('ООО "Без ИНН"', 'ООО "Без ИНН"', "", "")
        b.bad(COUNTERPARTIES, obj, "missing_inn")
        twin = b.new_legal()
        dup = self.ops.create_counterparty(twin["Description"] + " (дубль)", twin["НаименованиеПолное"], twin["ИНН"],
                                           twin["КПП"])
        b.bad(COUNTERPARTIES, dup, "duplicate_inn")
        for bad_kpp in (kpp[:8], kpp[:4] + "АБ" + kpp[6:]):
            obj = self.ops.create_counterparty('ООО "Ошибка КПП"', 'ООО "Ошибка КПП"', *b.legal_requisites(region)[:1],
                                               bad_kpp)
            b.case("bad_kpp", obj["Ref_Key"])
            b.bad(COUNTERPARTIES, obj, "kpp_format")
        self.bad_banks()

    def bad_banks(self):
        b = self.b
        bank = self.store.put(BANKS, {"Code": "4452522", "Description": "КБ \"ОШИБКА БИК\" (ООО)", "IsFolder": False,
                                      "КоррСчет": "30101810400000000225", "Город": "Г. МОСКВА"})
        b.case("bad_bik", bank["Ref_Key"])
        b.bad(BANKS, bank, "bik_format")
        good = self.store.get(BANKS, b.refs["banks"][0])
        bank2 = self.store.put(BANKS, {"Code": good["Code"][:-3] + "001", "Description": "АО \"НЕВЕРНЫЙ КОРРСЧЕТ\"",
                                       "IsFolder": False, "КоррСчет": "30101810000000000999", "Город": "Г. МОСКВА"})
        b.case("bad_bik", bank2["Ref_Key"])
        b.bad(BANKS, bank2, "corr_account_checksum")
        owner = b.new_legal()
        account = b.add_bank_account(owner)
        number = account["НомерСчета"]
        broken = number[:8] + str((int(number[8]) + 1) % 10) + number[9:]
        self.store.update(ACCOUNTS, account["Ref_Key"], {"НомерСчета": broken, "Description": broken})
        b.case("bad_account", account["Ref_Key"])
        b.bad(ACCOUNTS, account, "account_checksum")
        short = b.add_bank_account(owner, number="4070281000000012")
        b.case("bad_account", short["Ref_Key"])
        b.bad(ACCOUNTS, short, "account_length")

    def bad_contacts(self):
        b = self.b
        for value in ("ivanov@@mail.ru", "sales.company.ru"):
            obj = b.new_legal()
            b.add_contact(obj, "АдресЭлектроннойПочты", "000000030", value)
            b.case("bad_email", obj["Ref_Key"])
            b.bad(COUNTERPARTIES, obj, "email_format")
        for value in ("тел. уточнить у менеджера", "12-34"):
            obj = b.new_legal()
            b.add_contact(obj, "Телефон", "000000005", value, fields={"Поле3": value})
            b.case("bad_phone", obj["Ref_Key"])
            b.bad(COUNTERPARTIES, obj, "phone_format")

    def names(self):
        b = self.b
        description = ('ООО "Научно-производственное объединение Северо-Западных региональных '
                       'технологий и инноваций Плюс"')
        description = (description + " " * 100)[:100]
        full = ("Общество с ограниченной ответственностью Научно-производственное объединение "
                "Северо-Западных региональных технологий, инноваций, строительства, инжиниринга, логистики, "
                "торговли, сервисного обслуживания и эксплуатации промышленного оборудования и "
                "информационных систем Российской Федерации и стран СНГ, филиал в городе Санкт-Петербург")
        obj = self.ops.create_counterparty(description, full, *b.legal_requisites(b.addresses.region()))
        b.case("long_name", obj["Ref_Key"])
        b.bad(COUNTERPARTIES, obj, "name_too_long")
        b.bad(COUNTERPARTIES, obj, "description_max_length")
        empty = self.ops.create_counterparty("", "", *b.legal_requisites(b.addresses.region()))
        b.case("empty_name", empty["Ref_Key"])
        b.bad(COUNTERPARTIES, empty, "empty_name")
        spaced = self.ops.create_counterparty('  ООО "Пробелы"  ', ' ', *b.legal_requisites(b.addresses.region()))
        b.case("empty_name", spaced["Ref_Key"])
        b.bad(COUNTERPARTIES, spaced, "whitespace_name")

    def dangling(self):
        b = self.b
        owner = b.new_legal()
        missing_bank = self.store.new_ref()
        account = self.store.put(ACCOUNTS, {
            "Owner": owner["Ref_Key"], "Owner_Type": composite_type(COUNTERPARTIES),
            "Code": self.store.next_code(ACCOUNTS), "Description": "Счет в удаленном банке",
            "НомерСчета": "40702810900000000001", "Банк_Key": missing_bank,
            "ВалютаДенежныхСредств_Key": b.refs["currency"]["643"],
        })
        b.case("dangling_reference", account["Ref_Key"])
        b.bad(ACCOUNTS, account, "dangling_reference")
        ghost_manager = self.ops.create_counterparty('ООО "Потерянный менеджер"', 'ООО "Потерянный менеджер"',
                                                     *b.legal_requisites(b.addresses.region()),
                                                     manager=self.store.new_ref())
        b.case("dangling_reference", ghost_manager["Ref_Key"])
        b.bad(COUNTERPARTIES, ghost_manager, "dangling_reference")


class ProductCases:
    def __init__(self, builder):
        self.b = builder
        self.ops = builder.ops

    def build(self):
        b = self.b
        moment = iso(b.moment(0.9))
        made = {}
        service = b.new_product(service=True)
        b.price_products([service], b.moment(0.9))
        made["product_service"] = service
        no_price = b.new_product()
        b.bad(PRODUCTS, no_price, "missing_price")
        made["product_no_price"] = no_price
        calculated = b.new_product()
        self.ops.set_prices([(calculated["Ref_Key"], "Оптовая", 1000, None, 0),
                             (calculated["Ref_Key"], "Мелкооптовая", 0, None, 15)], moment)
        b.prices[calculated["Ref_Key"]] = 1000
        made["product_calculated_price"] = calculated
        deleted = b.new_product()
        b.price_products([deleted], b.moment(0.9))
        made["product_deleted"] = deleted
        foreign = b.new_product()
        self.ops.set_prices([(foreign["Ref_Key"], "Оптовая USD", 125.5, "840", 0)], moment)
        b.bad(PRODUCTS, foreign, "foreign_currency_price")
        made["product_foreign_currency_price"] = foreign
        zero, negative = b.new_product(), b.new_product()
        self.ops.set_prices([(zero["Ref_Key"], "Оптовая", 0, None, 0), (negative["Ref_Key"], "Оптовая", -150, None, 0)],
                            moment)
        b.bad(PRODUCTS, zero, "zero_price")
        b.bad(PRODUCTS, negative, "negative_price")
        long_name = self.ops.create_product("Кабель " + "универсальный " * 8, full_name="Кабель " + "очень " * 60)
        b.bad(PRODUCTS, long_name, "name_too_long")
        for name, obj in made.items():
            b.case(name, obj["Ref_Key"])
        b.case("product_bad_price", zero["Ref_Key"])
        b.case("product_bad_price", negative["Ref_Key"])
        self.ops.set_deletion_mark(PRODUCTS, deleted["Ref_Key"], True)
        b.bad(PRODUCTS, deleted, "deleted_product")
        return made


class OrderCases:
    def __init__(self, builder, product_cases):
        self.b = builder
        self.ops = builder.ops
        self.products = product_cases
        self.step = 0

    def date(self):
        """Strictly increasing moments in the last weeks, so every document follows its order."""
        self.step += 1
        return iso(self.b.moment(0.97) + dt.timedelta(minutes=37 * self.step))

    def new_order(self, name, buyer=None, lines=None, **kwargs):
        b = self.b
        buyer = buyer or b.new_legal()["Ref_Key"]
        lines = lines or [{"product": b.new_product()["Ref_Key"], "quantity": 4, "price": 1500},
                          {"product": self.products["product_service"]["Ref_Key"], "quantity": 1, "price": 2500}]
        order = self.ops.create_order(buyer, lines, date=self.date(), **kwargs)
        b.case(name, order["Ref_Key"])
        return order

    def build(self):
        ops = self.ops
        self.new_order("order_new")
        self.new_order("order_unposted", posted=False)
        ref = self.new_order("order_invoiced")["Ref_Key"]
        ops.create_invoice(ref, self.date())
        order = self.new_order("order_partially_paid")
        ops.create_invoice(order["Ref_Key"], self.date())
        ops.create_payment(order["Ref_Key"], "bank", amount=round(order["СуммаДокумента"] * 0.4, 2), date=self.date())
        for kind in ("bank", "cash", "card"):
            ops.create_payment(self.new_order(f"order_paid_{kind}")["Ref_Key"], kind, date=self.date())
        ops.create_realization(self.new_order("order_shipped_unpaid")["Ref_Key"], date=self.date())
        ref = self.new_order("order_shipped_paid")["Ref_Key"]
        ops.create_payment(ref, "bank", date=self.date())
        ops.create_realization(ref, date=self.date())
        ops.close_order(self.new_order("order_closed")["Ref_Key"], self.date())
        ref = self.new_order("order_deleted")["Ref_Key"]
        ops.set_deletion_mark(ORDER, ref, True)
        self.by_invoice()
        self.special_lines()

    def by_invoice(self):
        b = self.b
        buyer = b.new_legal()
        contract = self.ops.create_contract(buyer["Ref_Key"], "643", "ПоСчетам", name="Договор по счетам")
        order = self.new_order("order_paid_by_invoice", buyer=buyer["Ref_Key"], contract=contract["Ref_Key"])
        self.ops.create_invoice(order["Ref_Key"], self.date())
        self.ops.create_payment(order["Ref_Key"], "bank", against="invoice", date=self.date())

    def special_lines(self):
        b = self.b
        deleted = self.products["product_deleted"]["Ref_Key"]
        order = self.new_order("order_deleted_product_line", lines=[
            {"product": deleted, "quantity": 2, "price": 990}, {"product": b.new_product()["Ref_Key"], "quantity": 1,
                                                                "price": 450}])
        b.bad(ORDER, order, "deleted_product_in_order")
        order = self.new_order("order_multiple_realizations", lines=[
            {"product": b.new_product()["Ref_Key"], "quantity": 10, "price": 300},
            {"product": b.new_product()["Ref_Key"], "quantity": 3, "price": 120}])
        self.ops.create_realization(order["Ref_Key"], [{"product": order["Товары"][0]["Номенклатура_Key"],
                                                        "quantity": 4}], date=self.date())
        self.ops.create_realization(order["Ref_Key"], date=self.date())
        order = self.new_order("order_zero_quantity_line", lines=[
            {"product": b.new_product()["Ref_Key"], "quantity": 0, "price": 700},
            {"product": b.new_product()["Ref_Key"], "quantity": 2, "price": 700}])
        b.bad(ORDER, order, "zero_quantity")
        buyer = b.refs["usd_buyer"]
        contract = self.ops.create_contract(buyer, "840", "ПоЗаказам", name="Контракт в USD")
        order = self.new_order("order_foreign_currency", buyer=buyer, contract=contract["Ref_Key"], lines=[
            {"product": self.products["product_foreign_currency_price"]["Ref_Key"], "quantity": 3, "price": 125.5}])
        b.bad(ORDER, order, "foreign_currency_order")
