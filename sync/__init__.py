"""The integration domain: read 1С, map to Bitrix24 payloads, diff against links, write in batches."""
