"""REST method registry: ``@method(name, admin=…)`` handlers that take a :class:`Call`."""

from dataclasses import dataclass, field

REGISTRY = {}


@dataclass
class Method:
    handler: object
    admin: bool = False
    write: bool = False


@dataclass
class Call:
    """One REST command being executed: portal, calling user, parameters and the emulator."""

    emulator: object
    portal: dict
    user: dict
    params: dict
    name: str

    @property
    def user_id(self):
        return int(self.user["ID"])

    def param(self, *names, default=None):
        """First present parameter among ``names`` (Bitrix accepts several spellings)."""
        for name in names:
            if name in self.params and self.params[name] is not None:
                return self.params[name]
        return default


@dataclass
class ListResult:
    """A list method's answer: ``result`` plus top-level ``total``/``next`` (absent in fast mode)."""

    result: object
    total: int | None = None
    next: int | None = None
    extra: dict = field(default_factory=dict)


def method(name, admin=False, write=False):
    """Register a handler for REST method ``name``."""

    def register(handler):
        REGISTRY[name.lower()] = Method(handler, admin, write)
        return handler

    return register


def load_all():
    """Import every method module so the registry is complete."""
    from . import catalog, crm_item, requisites, stages, system  # noqa: F401
