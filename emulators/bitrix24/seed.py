"""Default portal data: deal stages, requisite presets, measures, price types, currencies, catalogs."""

import random

# CORE: modules/crm/classes/general/crm_status.php (CCrmStatus::GetDefaultDealStages), reference §3.8.
# The "Cчёт" typo (Latin C) is in the product's language file and is kept on purpose.
DEFAULT_DEAL_STAGES = [
    ("NEW", 10, "Y", "", "Новая", "#39A8EF"),
    ("PREPARATION", 20, "N", "", "Подготовка документов", "#2FC6F6"),
    ("PREPAYMENT_INVOICE", 30, "N", "", "Cчёт на предоплату", "#55D0E0"),
    ("EXECUTING", 40, "N", "", "В работе", "#47E4C2"),
    ("FINAL_INVOICE", 50, "N", "", "Финальный счёт", "#FFA900"),
    ("WON", 60, "Y", "S", "Сделка успешна", "#7BD500"),
    ("LOSE", 70, "Y", "F", "Сделка провалена", "#FF5752"),
    ("APOLOGY", 80, "N", "F", "Анализ причины провала", "#FF5752"),
]

# reference §3.3: the fixed RU preset list; ids are portal data, so they are randomised here.
RU_PRESETS = [
    ("Организация", "#CRM_REQUISITE_PRESET_DEF_RU_COMPANY#"),
    ("ИП", "#CRM_REQUISITE_PRESET_DEF_RU_INDIVIDUAL#"),
    ("Физ. лицо", "#CRM_REQUISITE_PRESET_DEF_RU_PERSON#"),
]

# OKEI codes with portal ids that deliberately differ from the codes.
MEASURES = [
    ("796", "Штука", "шт", "PCE", "Y"),
    ("166", "Килограмм", "кг", "KGM", "N"),
    ("163", "Грамм", "г", "GRM", "N"),
    ("112", "Литр", "л", "LTR", "N"),
    ("006", "Метр", "м", "MTR", "N"),
    ("055", "Квадратный метр", "м2", "MTK", "N"),
    ("113", "Кубический метр", "м3", "MTQ", "N"),
    ("778", "Упаковка", "упак", "NMP", "N"),
    ("356", "Час", "ч", "HUR", "N"),
]

CURRENCIES = [
    ("RUB", "Российский рубль", "Y", 1.0, 100),
    ("USD", "Доллар США", "N", 90.0, 200),
    ("EUR", "Евро", "N", 98.0, 300),
]


def preset_start_id():
    """First requisite preset id of a new portal: never 1, 2 or 3."""
    return random.randint(11, 60)


def measure_ids(start=3):
    return list(range(start, start + len(MEASURES)))
