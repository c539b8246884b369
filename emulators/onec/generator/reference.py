"""Reference data every infobase has: currencies, organizations, users, units, contact kinds, price types, banks."""

from ..schema import EMPTY_REF
from .checkdigits import corr_account, inn_legal, ogrn, settlement_account

CURRENCIES = [("643", "руб.", "Российский рубль"), ("840", "USD", "Доллар США"), ("978", "EUR", "Евро")]
UNITS = [("796", "шт", "Штука", "PCE"), ("166", "кг", "Килограмм", "KGM"), ("006", "м", "Метр", "MTR"),
         ("112", "л", "Литр", "LTR"), ("778", "упак", "Упаковка", "NMP"), ("055", "м2", "Квадратный метр", "MTK"),
         ("715", "пар", "Пара (2 шт.)", "NPR"), ("356", "ч", "Час", "HUR")]
# (predefined, code, description, Тип, ВидОбъектаКонтактнойИнформации) — reference §2.3
CONTACT_KINDS = [
    (True, "000000001", "Юридический адрес контрагента", "Адрес", "Контрагенты"),
    (True, "000000002", "Фактический адрес контрагента", "Адрес", "Контрагенты"),
    (True, "000000005", "Телефон контрагента", "Телефон", "Контрагенты"),
    (True, "000000013", "Адрес электронной почты контрагента для обмена электронными документами",
     "АдресЭлектроннойПочты", "Контрагенты"),
    (True, "000000014", "Адрес доставки", "Адрес", "Контрагенты"),
    (True, "000000016", "Мобильный телефон контактного лица контрагента", "Телефон", "КонтактныеЛицаКонтрагентов"),
    (True, "000000018", "Рабочий телефон контактного лица контрагента", "Телефон", "КонтактныеЛицаКонтрагентов"),
    (True, "000000021", "Факс контрагента", "Факс", "Контрагенты"),
    (True, "000000023", "Адрес электронной почты контактного лица контрагента", "АдресЭлектроннойПочты",
     "КонтактныеЛицаКонтрагентов"),
    (False, "000000030", "E-mail контрагента (для рассылок)", "АдресЭлектроннойПочты", "Контрагенты"),
]
BANK_NAMES = ["ПАО СБЕРБАНК", "БАНК ВТБ (ПАО)", "АО \"АЛЬФА-БАНК\"", "АО \"РАЙФФАЙЗЕНБАНК\"", "ПАО \"ПРОМСВЯЗЬБАНК\"",
              "АО \"ТИНЬКОФФ БАНК\"", "ПАО \"БАНК УРАЛСИБ\"",
              "ПАО \"МОСКОВСКИЙ КРЕДИТНЫЙ БАНК\"", "АО \"ЮНИКРЕДИТ БАНК\"",
              "ПАО \"СОВКОМБАНК\"", "ООО \"БАНК ТОЧКА\"", "АО \"РОССЕЛЬХОЗБАНК\""]
BANK_CITIES = [("45", "МОСКВА"), ("40", "САНКТ-ПЕТЕРБУРГ"), ("65", "ЕКАТЕРИНБУРГ"), ("50", "НОВОСИБИРСК"),
               ("92", "КАЗАНЬ"), ("22", "НИЖНИЙ НОВГОРОД"), ("36", "САМАРА"), ("60", "РОСТОВ-НА-ДОНУ")]
MANAGERS = ["Администратор", "Кравцова Елена Викторовна", "Беляев Игорь Андреевич", "Шестаков Павел Олегович",
            "Гусева Марина Сергеевна", "Тимофеев Денис Алексеевич"]


def build_reference(store, rng, n_banks):
    refs = {"currency": {}, "units": {}, "unit_names": {}, "contact_kinds": {}, "price_types": {},
            "organizations": [], "prefixes": {}, "users": [], "banks": []}
    _currencies(store, refs)
    _units(store, refs)
    _contact_kinds(store, refs)
    _users(store, refs)
    _banks(store, rng, refs, n_banks)
    _organizations(store, rng, refs)
    _price_types(store, refs)
    return refs


def _catalog(store, set_name, **fields):
    fields.setdefault("Code", store.next_code(set_name))
    return store.put(set_name, fields)


def _currencies(store, refs):
    for code, short, full in CURRENCIES:
        obj = _catalog(store, "Catalog_Валюты", Code=code, Description=short, НаименованиеПолное=full,
                       ПараметрыПрописиНаРусском=f"{short}, {short}, {short}, м, , , , , 2")
        refs["currency"][code] = obj["Ref_Key"]


def _units(store, refs):
    for code, short, full, intl in UNITS:
        obj = _catalog(store, "Catalog_КлассификаторЕдиницИзмерения", Code=code, Description=short,
                       НаименованиеПолное=full, МеждународноеСокращение=intl)
        refs["units"][code] = obj["Ref_Key"]
        refs["unit_names"][code] = short


def _contact_kinds(store, refs):
    for predefined, code, name, type_name, object_kind in CONTACT_KINDS:
        obj = _catalog(store, "Catalog_ВидыКонтактнойИнформации", Code=code, Description=name,
                       Predefined=predefined, Тип=type_name, ВидОбъектаКонтактнойИнформации=object_kind)
        refs["contact_kinds"][code] = obj["Ref_Key"]


def _users(store, refs):
    for name in MANAGERS:
        obj = _catalog(store, "Catalog_Пользователи", Description=name, ИдентификаторПользователяИБ=store.new_ref())
        refs["users"].append(obj["Ref_Key"])


def make_bik(rng, region_code):
    return "04" + region_code + str(rng.randint(10, 99)) + str(rng.randint(50, 999)).zfill(3)


def _banks(store, rng, refs, n_banks):
    seen = set()
    for i in range(n_banks):
        region_code, city = BANK_CITIES[i % len(BANK_CITIES)]
        bik = make_bik(rng, region_code)
        while bik in seen:
            bik = make_bik(rng, region_code)
        seen.add(bik)
        name = BANK_NAMES[i % len(BANK_NAMES)]
        if i >= len(BANK_NAMES):
            name += f" Ф-Л № {i}"
        obj = _catalog(store, "Catalog_Банки", Code=bik, Description=name, Parent_Key=EMPTY_REF, IsFolder=False,
                       КоррСчет=corr_account(bik), Город=f"Г. {city}", Адрес=f"г. {city.title()}",
                       Телефоны="")
        refs["banks"].append(obj["Ref_Key"])


def _organizations(store, rng, refs):
    for prefix, short, full, tax in [("ТД", 'ООО "Торговый дом Север"',
                                      'Общество с ограниченной ответственностью "Торговый дом Север"', "7701"),
                                     ("АТ", 'АО "Альфа-Трейд"', 'Акционерное общество "Альфа-Трейд"', "7810")]:
        ref = store.new_ref()
        bank = store.get("Catalog_Банки", refs["banks"][len(refs["organizations"]) % len(refs["banks"])])
        account = store.put("Catalog_БанковскиеСчета", {
            "Owner": ref, "Owner_Type": "StandardODATA.Catalog_Организации", "Code": store.next_code(
                "Catalog_БанковскиеСчета"), "Description": f"Расчетный счет в {bank['Description']}",
            "НомерСчета": settlement_account(bank["Code"], "40702810" + str(rng.randint(10**11, 10**12 - 1))),
            "Банк_Key": bank["Ref_Key"], "ВалютаДенежныхСредств_Key": refs["currency"]["643"], "ВидСчета": "Расчетный",
        })
        inn = inn_legal(tax + str(rng.randint(10000, 99999)))
        _catalog(store, "Catalog_Организации", Ref_Key=ref, Description=short, НаименованиеПолное=full, Префикс=prefix,
                 ИНН=inn, КПП=tax + "01001", ОГРН=ogrn("1" + str(rng.randint(10**10, 10**11 - 1)) + "7"),
                 ЮрФизЛицо="ЮрЛицо", ОсновнойБанковскийСчет_Key=account["Ref_Key"],
                 ОтражатьВРегламентированномУчете=True)
        refs["organizations"].append(ref)
        refs["prefixes"][ref] = prefix


def _price_types(store, refs):
    rub, usd = refs["currency"]["643"], refs["currency"]["840"]
    specs = [("Закупочная", rub, False, False, None, 0), ("Оптовая", rub, True, False, None, 0),
             ("Розничная", rub, True, False, None, 0), ("Мелкооптовая", rub, True, True, "Оптовая", 10),
             ("Оптовая USD", usd, True, False, None, 0)]
    for name, currency, with_vat, calculated, base, percent in specs:
        obj = _catalog(store, "Catalog_ТипыЦенНоменклатуры", Description=name, ВалютаЦены_Key=currency,
                       ЦенаВключаетНДС=with_vat, Рассчитывается=calculated,
                       БазовыйТипЦен_Key=refs["price_types"].get(base, EMPTY_REF), ПроцентСкидкиНаценки=percent,
                       СпособРасчетаЦены="ПоПроцентнойНаценкеНаБазовыйТип" if calculated else "",
                       ПорядокОкругления="Окр1" if calculated else "Окр0_01", ОкруглятьВБольшуюСторону=calculated)
        refs["price_types"][name] = obj["Ref_Key"]
