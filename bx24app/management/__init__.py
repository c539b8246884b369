"""Management commands of the Bitrix24 side."""
