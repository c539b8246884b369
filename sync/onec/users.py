"""1С users (Справочник.Пользователи) with their e-mails from the contact-information register."""

from __future__ import annotations

from . import contact_info, decode
from .client import ODataClient
from .records import OneCUser

USERS = "Catalog_Пользователи"
ENTITY_SETS = (USERS,)
USER_TYPE = f"{decode.TYPE_PREFIX}{USERS}"
EMAIL_FILTER = "Тип eq 'АдресЭлектроннойПочты'"


def read_users(client: ODataClient) -> list[OneCUser]:
    """All users (two paged requests: the catalog and the users' e-mails)."""
    emails = user_emails(client)
    return [
        OneCUser(ref=row["Ref_Key"], name=decode.text(row.get("Description")), email=emails.get(row["Ref_Key"], ""),
                 deletion_mark=decode.flag(row.get("DeletionMark")))
        for row in client.iter_rows(USERS, select="Ref_Key,Description,DeletionMark", page_size=5000)
    ]


def user_refs(client: ODataClient) -> set[str]:
    """Refs of all users (one request): enough to tell a dangling reference to a user."""
    return {row["Ref_Key"] for row in client.iter_rows(USERS, select="Ref_Key", page_size=5000)}


def user_emails(client: ODataClient) -> dict[str, str]:
    """User ref → e-mail (the default one when a user has several)."""
    emails: dict[str, tuple[bool, str]] = {}
    rows = client.iter_rows(contact_info.REGISTER, select="Объект,Объект_Type,Представление,ЗначениеПоУмолчанию",
                            filter=EMAIL_FILTER, orderby=contact_info.ORDER, page_size=5000)
    for row in rows:
        if row.get("Объект_Type") != USER_TYPE or not row.get("Представление"):
            continue
        candidate = (decode.flag(row.get("ЗначениеПоУмолчанию")), decode.text(row.get("Представление")))
        current = emails.get(row["Объект"])
        if current is None or candidate[0] and not current[0]:
            emails[row["Объект"]] = candidate
    return {ref: value for ref, (_, value) in emails.items()}
