"""What changed in the emulated portal since the last look: deals moving between stages, notifications.

The demo owns the Bitrix24 emulator in-process, so it reads the emulator's store directly (under its lock)
instead of pulling the whole portal over the control API every few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PortalChanges:
    moves: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)


class PortalWatch:
    def __init__(self, bitrix, member_id: str):
        self.bitrix, self.member_id = bitrix, member_id
        self._history_seen = 0
        self._notifications_seen: set = set()

    def _portal(self) -> dict:
        return self.bitrix.store.portal(self.member_id)

    def stage_names(self) -> dict[str, str]:
        with self.bitrix.store.lock:
            return {s["STATUS_ID"]: s["NAME"] for s in self._portal()["statuses"].values()
                    if str(s.get("ENTITY_ID", "")).startswith("DEAL_STAGE")}

    def stage_counts(self, stage_map: dict) -> list[tuple[str, int]]:
        """(stage name, deals) for the sync's four stages in order, then the others that have deals."""
        names = self.stage_names()
        counts: dict[str, int] = {}
        with self.bitrix.store.lock:
            for deal in self._portal()["items"]["2"].values():
                counts[deal.get("stageId")] = counts.get(deal.get("stageId"), 0) + 1
        ours = [stage_map[code] for code in ("ORDER_RECEIVED", "INVOICE_SENT", "PAID", "SHIPPED_UNPAID")
                if code in stage_map]
        rows = [(names.get(stage_id, stage_id), counts.get(stage_id, 0)) for stage_id in ours]
        rows += [(names.get(stage_id, stage_id), n) for stage_id, n in counts.items() if stage_id not in ours]
        return rows

    def mark(self) -> None:
        """From now on report only what happens after this point."""
        self.changes()

    def changes(self) -> PortalChanges:
        names = self.stage_names()
        found = PortalChanges()
        with self.bitrix.store.lock:
            portal = self._portal()
            history = portal["stage_history"][self._history_seen:]
            self._history_seen += len(history)
            deals = portal["items"]["2"]
            for entry in history:
                if not entry.get("FROM_STAGE_ID"):
                    continue  # a deal created in its stage
                deal = deals.get(str(entry["OWNER_ID"])) or {}
                found.moves.append(
                    f"сделка #{entry['OWNER_ID']} «{deal.get('title', '')}»: "
                    f"«{names.get(entry['FROM_STAGE_ID'], entry['FROM_STAGE_ID'])}» → "
                    f"«{names.get(entry['STAGE_ID'], entry['STAGE_ID'])}»")
            users = portal["users"]
            for user_id, notes in portal["notifications"].items():
                user = users.get(str(user_id), {})
                for note in notes:
                    if note["ID"] in self._notifications_seen:
                        continue
                    self._notifications_seen.add(note["ID"])
                    found.notifications.append(
                        f"уведомление для {user.get('NAME', '')} {user.get('LAST_NAME', '')}: {note['MESSAGE']}")
        return found
