"""1С users (managers) → Bitrix24 users: by e-mail, or by the same ФИО in any word order (pure)."""

import re


def normalize_person_name(value: str) -> str:
    value = (value or "").lower().replace("ё", "е")
    words = re.findall(r"[a-zа-я0-9]+", value)
    return " ".join(sorted(words))


def match_onec_users(onec_rows: list[dict], portal_rows: list[dict]) -> dict[str, int]:
    """1С user ref → portal user id by e-mail (when both have one) or by the same ФИО in any word order.
    A name two portal users share is ambiguous and left unmatched."""
    by_email: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    by_short: dict[str, list[int]] = {}
    for row in portal_rows:
        uid = int(row["ID"])
        if row.get("EMAIL"):
            by_email.setdefault(row["EMAIL"].strip().lower(), []).append(uid)
        full = normalize_person_name(" ".join([row.get("LAST_NAME", ""), row.get("NAME", ""),
                                               row.get("SECOND_NAME", "")]))
        short = normalize_person_name(" ".join([row.get("LAST_NAME", ""), row.get("NAME", "")]))
        by_name.setdefault(full, []).append(uid)
        if short != full:
            by_short.setdefault(short, []).append(uid)
    matches = {}
    for onec in onec_rows:
        email = (onec.get("email") or "").strip().lower()
        candidates = by_email.get(email) if email else None
        if not candidates:
            name = normalize_person_name(onec.get("name", ""))
            candidates = by_name.get(name) or by_short.get(name)
            if not candidates:
                # «Иванов Иван Иванович» in 1С vs «Иван Иванов» on the portal
                words = name.split()
                if len(words) == 3:
                    for drop in words:
                        rest = " ".join(w for w in words if w != drop)
                        candidates = by_name.get(rest) or by_short.get(rest)
                        if candidates:
                            break
        if candidates and len(set(candidates)) == 1:
            matches[onec["ref"]] = candidates[0]
    return matches
