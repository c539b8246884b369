"""1С:Управление торговлей 10.3 standard OData (v3) publication emulator with a generated infobase."""

from .server import OneCEmulator

__all__ = ["OneCEmulator"]
