"""Pure mapping from 1С records to Bitrix24 payloads: no I/O, fully testable with plain data."""
