"""Services of the Bitrix24 side (HackSoft style): install, settings, events, payment notifications."""

from .portal_settings import portal_settings_update

__all__ = ["portal_settings_update"]
