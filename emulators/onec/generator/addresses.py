"""Russian addresses (КонтактнаяИнформация Поле1..Поле9), phones and e-mails."""

TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                     "s", "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"], strict=True))
# (region, city or "" for federal cities, postal index prefix, phone code)
REGIONS = [
    ("Москва г", "", "1", "495"), ("Санкт-Петербург г", "", "19", "812"),
    ("Московская обл", "Химки г", "141", "495"), ("Свердловская обл", "Екатеринбург г", "620", "343"),
    ("Новосибирская обл", "Новосибирск г", "630", "383"), ("Татарстан Респ", "Казань г", "420", "843"),
    ("Нижегородская обл", "Нижний Новгород г", "603", "831"), ("Самарская обл", "Самара г", "443", "846"),
    ("Ростовская обл", "Ростов-на-Дону г", "344", "863"), ("Краснодарский край", "Краснодар г", "350", "861"),
    ("Воронежская обл", "Воронеж г", "394", "473"), ("Пермский край", "Пермь г", "614", "342"),
]
STREETS = ["Ленина ул", "Мира пр-кт", "Садовая ул", "Центральная ул", "Гагарина ул", "Советская ул", "Заводская ул",
           "Промышленная ул", "Профсоюзная ул", "Лесная ул", "Набережная ул", "Кирова ул", "Победы пр-кт"]
MAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru"]


def translit(text):
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower() if ch.isalnum() or ch in "-_")


class Addresses:
    def __init__(self, rng):
        self.rng = rng

    def region(self):
        return self.rng.choice(REGIONS)

    def address(self, region=None):
        """(Представление, {Поле1..Поле9})."""
        region, city, index_prefix, _ = region or self.region()
        index = index_prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(6 - len(index_prefix)))
        if region == "Москва г":
            index = "12" + index[2:]  # Moscow city indexes 12xxxx
        street = self.rng.choice(STREETS)
        house = str(self.rng.randint(1, 150))
        building = str(self.rng.randint(1, 5)) if self.rng.random() < 0.2 else ""
        flat = str(self.rng.randint(1, 300)) if self.rng.random() < 0.3 else ""
        parts = [index, region, city, street, f"дом № {house}"]
        parts += [f"корпус {building}"] if building else []
        parts += [f"кв.{flat}"] if flat else []
        fields = {"Поле1": index, "Поле2": region, "Поле4": city, "Поле6": street, "Поле7": house,
                  "Поле8": building, "Поле9": flat}
        return ", ".join(p for p in parts if p), {k: v for k, v in fields.items() if v}

    def phone(self, code=None, mobile=False):
        code = ("9" + str(self.rng.randint(10, 99))) if mobile else (code or self.region()[3])
        number = "".join(str(self.rng.randint(0, 9)) for _ in range(7))
        return f"+7 ({code}) {number[:3]}-{number[3:5]}-{number[5:]}"

    def email(self, local_hint="", domain=None):
        local = translit(local_hint)[:20] or "info"
        if domain is None:
            domain = self.rng.choice(MAIL_DOMAINS)
        return f"{local}{self.rng.randint(1, 999) if self.rng.random() < 0.5 else ''}@{domain}"

    def company_domain(self, core):
        return translit(core.replace(" ", "-"))[:24].strip("-") + self.rng.choice([".ru", ".com", ".рф"][:2])
