"""Reading 1С:УТ 10.3 through its standard OData interface (read-only; knows nothing about Bitrix24)."""
