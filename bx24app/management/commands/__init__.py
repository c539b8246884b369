"""`manage.py` commands: scripted provisioning of portals."""
