"""Bitrix24 payloads the mapping produces and the engine writes (plain data, with a stable content hash)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, is_dataclass
from decimal import Decimal

ORIGINATOR_ID = "1C_UT103"  # originatorId on every record we create (reference bitrix24-rest.md §3.1)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if is_dataclass(value):
        return asdict(value)
    raise TypeError(f"Not serialisable: {value!r}")


def content_hash(payload) -> str:
    """Stable hash of a payload (dataclass or plain data): equal hash ⇔ nothing to write."""
    data = asdict(payload) if hasattr(payload, "__dataclass_fields__") else payload
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, default=_json_default)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """Something wrong with a 1С record: a stable code and a Russian sentence for the administrator."""

    code: str
    message: str


@dataclass(frozen=True)
class Multifield:
    type_id: str  # "PHONE" | "EMAIL"
    value: str
    value_type: str = "WORK"


@dataclass(frozen=True)
class CrmItemPayload:
    """crm.item fields we own for a company (4) or contact (3); multifields are diffed by id on update."""

    entity_type_id: int
    fields: dict
    multifields: tuple[Multifield, ...] = ()
    create_only_fields: dict = field(default_factory=dict)  # e.g. assignedById: set once, then the manager's


@dataclass(frozen=True)
class RequisitePayload:
    xml_id: str
    preset_xml_id: str
    fields: dict


@dataclass(frozen=True)
class AddressPayload:
    type_id: int  # 1 actual, 6 legal, 11 delivery (crm.enum.addresstype)
    fields: dict


@dataclass(frozen=True)
class BankDetailPayload:
    onec_ref: str
    fields: dict  # includes NAME and XML_ID


@dataclass(frozen=True)
class ContactBundle:
    """A contact person of a company (or a private person) as a Bitrix24 contact."""

    onec_ref: str
    label: str
    item: CrmItemPayload
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ClientBundle:
    """Everything one 1С counterparty becomes in the CRM; `item` is None when it must not be synced."""

    onec_ref: str
    label: str
    kind: str  # "company" | "contact"
    item: CrmItemPayload | None
    requisite: RequisitePayload | None = None
    addresses: tuple[AddressPayload, ...] = ()
    bank_details: tuple[BankDetailPayload, ...] = ()
    contact_persons: tuple[ContactBundle, ...] = ()
    match_inn: str = ""
    match_kpp: str = ""
    match_phones: tuple[str, ...] = ()
    match_emails: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
