"""Checks of Russian requisites (ИНН, КПП, БИК, accounts), e-mails and phones, as 1С does not enforce them."""

import re

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3) * 8
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_KPP_RE = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")


def _checksum(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """ИНН of a legal entity (10 digits) or of an individual (12 digits), with check digits."""
    if not inn.isdigit():
        return False
    if len(inn) == 10:
        return _checksum(inn, _INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return (_checksum(inn, _INN11_WEIGHTS) == int(inn[10])
                and _checksum(inn, _INN12_WEIGHTS) == int(inn[11]))
    return False


def kpp_is_valid(kpp: str) -> bool:
    return bool(_KPP_RE.match(kpp))


def bik_is_valid(bik: str) -> bool:
    return len(bik) == 9 and bik.isdigit() and bik.startswith("04")


def _account_key_ok(prefix: str, account: str) -> bool:
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=False)) % 10 == 0


def account_is_valid(account: str, bik: str) -> bool:
    """Settlement account (20 digits) with the control key computed against the bank's БИК."""
    return len(account) == 20 and account.isdigit() and _account_key_ok(bik[-3:], account)


def corr_account_is_valid(corr_account: str, bik: str) -> bool:
    """Correspondent account (30101…) with the control key computed against "0" + БИК digits 5–6."""
    return len(corr_account) == 20 and corr_account.isdigit() and _account_key_ok("0" + bik[4:6], corr_account)


def email_is_valid(email: str) -> bool:
    return bool(_EMAIL_RE.match(email.strip()))


def normalize_phone(phone: str) -> str | None:
    """A phone as +<digits> (Russian numbers as +7XXXXXXXXXX), or None when it is not a phone number."""
    main = re.split(r"(?i)\s*(доб\.?|ext\.?|#)", phone)[0]
    digits = re.sub(r"\D", "", main)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] in "3489":
        return "+7" + digits
    if 11 <= len(digits) <= 15 and main.strip().startswith("+"):
        return "+" + digits
    return None
