"""Stand-ins for Bitrix24 methods the portal emulator does not have yet (used by the benchmark and the suite).

The emulator has no ``catalog.product.service.*`` (docs: services are created and updated with those methods,
result key ``service``, type 7). Until emulators/bitrix24/methods/catalog.py has them, this registers a minimal
stand-in built on the emulator's own product handlers — the same one tests/sync/services/test_products.py uses.
"""

from contextlib import contextmanager

from emulators.bitrix24 import methods as b24_methods
from emulators.bitrix24.methods import catalog as b24_catalog


def _service_add(call):
    call.params["fields"] = {**b24_catalog._fields(call), "type": 7}
    return {"service": b24_catalog.product_add(call)["element"]}


def _service_update(call):
    return {"service": b24_catalog.product_update(call)["element"]}


def install_service_methods() -> list[str]:
    """Register the stand-ins that are missing; returns the names added."""
    added = []
    for name, handler in (("catalog.product.service.add", _service_add),
                          ("catalog.product.service.update", _service_update)):
        if name not in b24_methods.REGISTRY:
            b24_methods.REGISTRY[name] = b24_methods.Method(handler, admin=True, write=True)
            added.append(name)
    return added


@contextmanager
def service_methods():
    added = install_service_methods()
    try:
        yield
    finally:
        for name in added:
            b24_methods.REGISTRY.pop(name, None)
