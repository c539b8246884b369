"""Phones and e-mails are updated by id, never blindly appended (reference bitrix24-rest.md §3.1, §9.2)."""

from __future__ import annotations

import re

from sync.mapping.payloads import Multifield


def _norm(type_id: str, value: str) -> tuple[str, str]:
    value = value.strip().lower()
    return type_id.upper(), re.sub(r"[^\d+]", "", value) if type_id.upper() == "PHONE" else value


def multifield_changes(current: list[dict], desired: tuple[Multifield, ...], previous: list[dict] | None) -> list:
    """The `fm` entries for crm.item.update: add what is missing, delete what 1С no longer has.

    Values a manager added in the CRM (never sent by us) are left alone; values we sent before and 1С dropped
    are deleted by id; values already present are not touched, so re-syncing never duplicates anything.
    """
    present = {_norm(f["typeId"], f["value"]): f for f in current}
    wanted = {_norm(m.type_id, m.value) for m in desired}
    changes: list[dict] = [{"typeId": m.type_id, "valueType": m.value_type, "value": m.value}
                           for m in desired if _norm(m.type_id, m.value) not in present]
    for sent in previous or []:
        key = _norm(sent["type_id"], sent["value"])
        if key not in wanted and key in present:
            changes.append({"id": present[key]["id"], "typeId": present[key]["typeId"], "value": ""})
    return changes
