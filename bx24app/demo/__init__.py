"""``python -m bx24app.demo``: the whole product in one process on embedded defaults (``make demo``).

Modules: ``options`` (command line, environment before Django starts), ``services`` (both emulators, the web
app, the Celery worker and the schedule), ``portal`` (install into the emulated portal the way Bitrix24 does,
configure the 1С connection), ``console`` (progress bar, summary, live events), ``watch`` (what changed in the
emulated portal), ``pay`` (``make demo-pay``: pay an invoiced order through the 1С emulator's mutation API),
``urls``/``views`` (``GET /demo/open-app/``: the settings page opened the way the portal frame opens it).
"""
