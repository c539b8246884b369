"""Views facing Bitrix24 (installer, event and robot handlers); thin, the work is in services."""
