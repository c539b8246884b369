"""The 1С-style OData error: HTTP status plus a Russian message, rendered as {"odata.error": ...}."""


class ODataError(Exception):
    def __init__(self, status, message, code="-1"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code

    def payload(self):
        return {"odata.error": {"code": self.code, "message": {"lang": "ru", "value": self.message}}}


def bad_request(message):
    return ODataError(400, message)


def not_found(message):
    return ODataError(404, message)


def entity_not_found():
    return ODataError(404, "Экземпляр сущности не найден")


def resource_not_found(segment):
    return ODataError(404, f"Не найден ресурс \"{segment}\"")
