"""Sync services (HackSoft style): `<entity>_<action>` functions that tasks and commands call."""
