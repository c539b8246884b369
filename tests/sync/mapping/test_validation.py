"""Check digits of ИНН/КПП/БИК/accounts, e-mails and phones."""

import pytest

from sync.mapping.validation import (
    account_is_valid,
    bik_is_valid,
    corr_account_is_valid,
    email_is_valid,
    inn_is_valid,
    kpp_is_valid,
    normalize_phone,
)


@pytest.mark.parametrize("inn, ok", [
    ("7707083893", True),  # Сбербанк
    ("7707083894", False),
    ("500100732259", True),  # a valid 12-digit individual ИНН
    ("500100732258", False),
    ("77070838", False),
    ("77070838AB", False),
])
def test_inn(inn, ok):
    assert inn_is_valid(inn) is ok


def test_kpp_bik():
    assert kpp_is_valid("773601001") and kpp_is_valid("7736AB001")
    assert not kpp_is_valid("77360100") and not kpp_is_valid("7736АБ001")  # Cyrillic letters are not allowed
    assert bik_is_valid("044525225") and not bik_is_valid("144525225") and not bik_is_valid("04452522")


def test_accounts_against_bik():
    bik = "044525225"
    corr = "30101810400000000225"
    assert corr_account_is_valid(corr, bik)
    assert not corr_account_is_valid("30101810400000000226", bik)
    good = next(f"4070281000000000{n:04d}" for n in range(10000) if account_is_valid(f"4070281000000000{n:04d}", bik))
    assert account_is_valid(good, bik)
    assert not account_is_valid(good[:-1] + str((int(good[-1]) + 1) % 10), bik)
    assert not account_is_valid(good[:16], bik)


def test_email_and_phone():
    assert email_is_valid("info@romashka.ru") and not email_is_valid("ivanov@@mail.ru")
    assert not email_is_valid("sales.company.ru")
    assert normalize_phone("8 (495) 123-45-67") == "+74951234567"
    assert normalize_phone("+7 916 123 45 67 доб. 123") == "+79161234567"
    assert normalize_phone("495 123-45-67") == "+74951234567"
    assert normalize_phone("+49 30 1234567") == "+49301234567"
    assert normalize_phone("12-34") is None
    assert normalize_phone("тел. уточнить у менеджера") is None
