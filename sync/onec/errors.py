"""Exceptions of the 1С OData client, each with a precise Russian message for the administrator."""

PUBLISH_HINT = "добавьте его в состав (УстановитьСоставСтандартногоИнтерфейсаOData)"


class OneCError(Exception):
    """Any failure talking to the 1С OData publication."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class OneCAuthError(OneCError):
    """401/403: 1С rejected the user or the user may not read the object."""

    def __init__(self, user: str, status: int):
        if status == 403:
            text = (f"1С отклонила запрос пользователя «{user}» (HTTP 403): у пользователя нет прав "
                    f"на чтение опубликованных объектов. Выдайте ему роль с правами на чтение.")
        else:
            text = (f"1С отклонила логин или пароль пользователя «{user}» (HTTP 401). "
                    f"Проверьте имя пользователя и пароль пользователя информационной базы 1С.")
        super().__init__(text)
        self.status = status


class OneCNotPublished(OneCError):
    """404 for an entity set: the object is not in the standard OData interface composition."""

    def __init__(self, object_name: str):
        super().__init__(f"Объект {object_name} не опубликован в стандартном интерфейсе OData: {PUBLISH_HINT}")
        self.object_name = object_name


class OneCNotOData(OneCError):
    """The URL answers, but not as a 1С OData publication (HTML page, plain text, other JSON)."""

    def __init__(self, url: str, detail: str = ""):
        text = (f"По адресу {url} отвечает не OData-публикация 1С{': ' + detail if detail else ''}. "
                f"Укажите адрес вида http://сервер/база/odata/standard.odata/ и проверьте, что при публикации "
                f"на веб-сервере включён стандартный интерфейс OData.")
        super().__init__(text)
        self.url = url


class OneCTimeout(OneCError):
    """1С did not answer in time, even after retries."""


class OneCUnavailable(OneCError):
    """Connection refused / DNS failure / 5xx after retries."""


class OneCQueryError(OneCError):
    """400: 1С could not execute the query; carries 1С's own message."""

    def __init__(self, path: str, onec_message: str):
        super().__init__(f"1С не смогла выполнить запрос {path}: {onec_message}")
        self.onec_message = onec_message
