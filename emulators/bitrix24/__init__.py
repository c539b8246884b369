"""Bitrix24 portal + OAuth server emulator (standard library only), faithful to the REST docs.

Start: ``python -m emulators.bitrix24 --host 127.0.0.1 --port 5601 [--state FILE] [--rate 2 --burst 50]
[--token-ttl S] [--fault-rate 0.0] [--client-id ID --client-secret S] [--op-budget 480] [--op-cost 0.005]``
or in Python::

    emu = Bitrix24Emulator(port=0).start(); portal = emu.create_portal(); ...; emu.stop()

One process serves the OAuth server (``{base}/oauth/token/``) and every portal. Unlike a real portal,
``client_endpoint`` is ``{base}/rest/`` for every portal: the access token identifies the portal.

Control API (JSON in/out):
  POST /_emulator/portals {license_family, admin{NAME,LAST_NAME,EMAIL}} -> member_id, domain, endpoints, ...
  GET  /_emulator/portals                                   list of portals
  POST /_emulator/portals/<member_id>/users {NAME, LAST_NAME, EMAIL, ADMIN}
  POST /_emulator/portals/<member_id>/install-params {user_id?, placement?, placement_options?}
       -> {query, form}: what the portal POSTs to the installer/app page
  POST /_emulator/portals/<member_id>/expire-tokens
  POST /_emulator/portals/<member_id>/uninstall {clean}     ONAPPUNINSTALL + tokens revoked
  POST /_emulator/portals/<member_id>/deals/<id>/move {stageId, user_id?}
  POST /_emulator/portals/<member_id>/robots/place {code, stageId, properties}
  GET  /_emulator/portals/<member_id>/state                 every entity of the portal
  GET  /_emulator/stats ; POST /_emulator/stats/reset
  GET/POST /_emulator/faults {fault_rate, fault_after_write, expire_tokens_every, burst_503,
                              method_429{method, seconds}, rate, burst, op_budget, op_cost, reset_buckets}
  POST /_emulator/wait-idle {timeout?}                      waits for the event/robot delivery queue
  POST /_emulator/save {path?}                              writes the state file
Web view: GET /, /crm/company/, /crm/contact/, /crm/deal/, /crm/deal/details/<id>/, /crm/product/,
/notifications/ with ?member_id=. See README.md for details and known differences.
"""

from .server import Bitrix24Emulator

__all__ = ["Bitrix24Emulator"]
