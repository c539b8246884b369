"""Russian requisites with check digits: ИНН, КПП, ОГРН, БИК, settlement and correspondent accounts."""

import re

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
ACCOUNT_WEIGHTS = (7, 1, 3)
KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
BIK_RE = re.compile(r"^04\d{7}$")


def _weighted(digits, weights):
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_legal(base9):
    """10-digit ИНН of a legal entity from its first 9 digits."""
    return base9 + str(_weighted(base9, INN10_WEIGHTS))


def inn_person(base10):
    """12-digit ИНН of an individual from its first 10 digits."""
    d11 = str(_weighted(base10, INN12_WEIGHTS_11))
    return base10 + d11 + str(_weighted(base10 + d11, INN12_WEIGHTS_12))


def inn_is_valid(inn):
    if not inn.isdigit():
        return False
    if len(inn) == 10:
        return inn_legal(inn[:9]) == inn
    if len(inn) == 12:
        return inn_person(inn[:10]) == inn
    return False


def kpp_is_valid(kpp):
    return bool(KPP_RE.match(kpp or ""))


def ogrn(base12):
    return base12 + str(int(base12) % 11 % 10)


def bik_is_valid(bik):
    return bool(BIK_RE.match(bik or ""))


def _account_sum(text):
    return sum(int(d) * ACCOUNT_WEIGHTS[i % 3] % 10 for i, d in enumerate(text))


def _with_key(prefix23):
    """Set the key digit (position 9 of the account = index 11 of the 23-char string)."""
    zeroed = prefix23[:11] + "0" + prefix23[12:]
    key = _account_sum(zeroed) % 10 * 3 % 10
    return zeroed[:11] + str(key) + zeroed[12:]


def settlement_account(bik, body20):
    """Account (20 digits) with the control key valid against the БИК (last 3 digits of БИК)."""
    return _with_key(bik[-3:] + body20)[3:]


def corr_account(bik):
    """Correspondent account 30101810K00000000XXX (XXX = last 3 of БИК), key against "0" + БИК[4:6]."""
    body = "30101810" + "0" + "00000000" + bik[-3:]
    return _with_key("0" + bik[4:6] + body)[3:]


def account_is_valid(bik, account):
    if not (bik.isdigit() and account.isdigit() and len(bik) == 9 and len(account) == 20):
        return False
    return _account_sum(bik[-3:] + account) % 10 == 0


def corr_account_is_valid(bik, account):
    if not (bik.isdigit() and account.isdigit() and len(bik) == 9 and len(account) == 20):
        return False
    return _account_sum("0" + bik[4:6] + account) % 10 == 0
