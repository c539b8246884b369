"""Installing the app on a portal: verify the install POST, store the tenant, set the portal up (idempotent)."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bx24app.bitrix.client import BatchResult, BitrixClient
from bx24app.bitrix.errors import BitrixError
from bx24app.bitrix.oauth import allowed_oauth_server, oauth_app_info
from bx24app.models import Portal, PortalSettings
from bx24app.portal_schema import (
    BOUND_EVENTS,
    DEAL_FIELDS,
    EVENTS_HANDLER_PATH,
    LOGICAL_STAGES,
    ROBOT_CODE,
    ROBOT_HANDLER_PATH,
    portal_stage_id,
    stage_entity_id,
)

log = logging.getLogger(__name__)

ALREADY_BOUND = "ERROR_HANDLER_ALREADY_EXIST"
ROBOT_ALREADY_INSTALLED = "ERROR_ACTIVITY_ALREADY_INSTALLED"


class InstallError(Exception):
    """Install refused or failed; ``step`` and ``message`` are shown to the administrator (Russian)."""

    def __init__(self, step: str, message: str):
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


@dataclass(frozen=True)
class InstallParams:
    """What Bitrix24 POSTs to the installer (reference §1.2), or the auth block of ONAPPINSTALL."""

    member_id: str
    domain: str
    protocol: str
    access_token: str
    refresh_token: str
    expires_in: int
    server_endpoint: str
    application_token: str
    lang: str = "ru"

    @property
    def portal_origin(self) -> str:
        return f"{self.protocol}://{self.domain}"


def install_params_from_request(params: Mapping) -> InstallParams:
    """Query DOMAIN/PROTOCOL/LANG + body AUTH_ID/REFRESH_ID/SERVER_ENDPOINT/member_id/APPLICATION_TOKEN…"""
    required = {"DOMAIN": params.get("DOMAIN"), "AUTH_ID": params.get("AUTH_ID"),
                "REFRESH_ID": params.get("REFRESH_ID"), "SERVER_ENDPOINT": params.get("SERVER_ENDPOINT"),
                "member_id": params.get("member_id"), "APPLICATION_TOKEN": params.get("APPLICATION_TOKEN")}
    _require_present(required)
    return InstallParams(
        member_id=str(params["member_id"]), domain=str(params["DOMAIN"]).strip().rstrip("/"),
        protocol="http" if str(params.get("PROTOCOL", "1")) == "0" else "https",
        access_token=str(params["AUTH_ID"]), refresh_token=str(params["REFRESH_ID"]),
        expires_in=_int(params.get("AUTH_EXPIRES"), 3600), server_endpoint=str(params["SERVER_ENDPOINT"]),
        application_token=str(params["APPLICATION_TOKEN"]), lang=str(params.get("LANG") or "ru"),
    )


def install_params_from_event(auth: Mapping) -> InstallParams:
    """The ``auth[...]`` block of ONAPPINSTALL (reference §1.3)."""
    required = {key: auth.get(key) for key in ("domain", "access_token", "refresh_token", "server_endpoint",
                                               "member_id", "application_token")}
    _require_present(required)
    client_endpoint = str(auth.get("client_endpoint") or "")
    return InstallParams(
        member_id=str(auth["member_id"]), domain=str(auth["domain"]).strip().rstrip("/"),
        protocol="http" if client_endpoint.startswith("http://") else "https",
        access_token=str(auth["access_token"]), refresh_token=str(auth["refresh_token"]),
        expires_in=_int(auth.get("expires_in"), 3600), server_endpoint=str(auth["server_endpoint"]),
        application_token=str(auth["application_token"]),
    )


def portal_install(params: InstallParams | Mapping) -> Portal:
    """Verify with the OAuth server, then store the tenant and set the portal up, all or nothing on our side.

    ``params``: parsed, or the installer POST's query + form merged. Nothing is stored unless the token is
    proven ours and the portal's; the portal setup steps are idempotent, so a second attempt completes it.
    """
    if not isinstance(params, InstallParams):
        params = install_params_from_request(params)
    _require_protocol_allowed(params)
    oauth_info = _verify_with_oauth_server(params)
    portal, created = _portal_store(params, oauth_info)
    try:
        portal_setup(portal)
    except BaseException:
        if created:  # a first install that failed leaves nothing behind
            portal.delete()
        raise
    log.info("portal %s (%s) installed", portal.member_id, portal.domain)
    return portal


# ---- verification ---------------------------------------------------------------------------------------
def _require_present(values: dict) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise InstallError(
            _("Проверка параметров установки"),
            _("Битрикс24 не передал параметры установки ({names}). Запустите установку приложения из раздела "
              "«Приложения» вашего портала.").format(names=", ".join(missing)),
        )


def _require_protocol_allowed(params: InstallParams) -> None:
    if params.protocol == "http" and not settings.BITRIX24_ALLOW_HTTP:
        raise InstallError(
            _("Проверка адреса портала"),
            _("Портал {domain} открыт по незащищенному протоколу http://. Приложение работает только с "
              "порталами по https://. Включите https для портала и повторите установку.").format(
                domain=params.domain),
        )


def _verify_with_oauth_server(params: InstallParams) -> dict:
    if allowed_oauth_server(params.server_endpoint) is None:
        log.warning("install refused: OAuth server %r not allowed (member %s)", params.server_endpoint,
                    params.member_id)
        raise InstallError(
            _("Проверка сервера авторизации"),
            _("Сервер авторизации {server} не входит в список доверенных серверов Битрикс24. Установка прервана. "
              "Если вы устанавливаете приложение из своего портала, сообщите об этом в поддержку приложения.")
            .format(server=params.server_endpoint),
        )
    try:
        info = oauth_app_info(params.server_endpoint, params.access_token)
    except BitrixError as exc:
        log.warning("install refused: app.info on the OAuth server failed for %s: %s", params.member_id, exc)
        raise InstallError(
            _("Проверка ключа доступа"),
            _("Битрикс24 не подтвердил ключ доступа установки ({code}). Закройте окно и запустите установку "
              "приложения заново.").format(code=exc.code or exc.description),
        ) from exc
    install = info.get("install") or {}
    checks = [
        str(info.get("client_id") or "") == settings.BITRIX24_CLIENT_ID,
        str(install.get("member_id") or "") == params.member_id,
        str(install.get("domain") or "").lower() == params.domain.lower(),
    ]
    if not all(checks):
        log.warning("install refused: app.info does not match (member %s, domain %s)", params.member_id,
                    params.domain)
        raise InstallError(
            _("Проверка ключа доступа"),
            _("Ключ доступа выдан другому приложению или другому порталу. Установка прервана. Запустите "
              "установку из раздела «Приложения» вашего портала."),
        )
    return info


def _portal_store(params: InstallParams, oauth_info: dict) -> tuple[Portal, bool]:
    """Create or overwrite the tenant (tokens, application token, active again); True when it is new."""
    with transaction.atomic():
        existing = Portal.objects.select_for_update().filter(member_id=params.member_id).first()
        portal = existing or Portal(member_id=params.member_id)
        _portal_fill(portal, params, oauth_info)
        portal.save()
        PortalSettings.objects.get_or_create(portal=portal)
    return portal, existing is None


def _portal_fill(portal: Portal, params: InstallParams, oauth_info: dict) -> None:
    portal.domain = params.domain
    portal.protocol = params.protocol
    portal.client_endpoint = f"{params.portal_origin}/rest/"
    portal.server_endpoint = params.server_endpoint
    portal.application_token = params.application_token
    portal.access_token = params.access_token
    portal.refresh_token = params.refresh_token
    portal.access_expires_at = timezone.now() + timedelta(seconds=params.expires_in)
    portal.installed_by_user_id = _int(oauth_info.get("user_id"), None)
    portal.status = Portal.Status.ACTIVE
    portal.status_reason = ""
    portal.uninstalled_at = None


# ---- setup in the portal (two batches) ------------------------------------------------------------------
def portal_setup(portal: Portal) -> None:
    """Bind events, register the robot, create missing deal fields and stages; store the maps."""
    portal_settings = PortalSettings.objects.get(portal=portal)
    client = BitrixClient(portal)
    category_id = portal_settings.category_id
    first = _run_batch(client, _first_batch(category_id), _("Чтение настроек портала и подписка на события"))
    _check_event_bindings(first)
    portal.license_family = str((first.results.get("app_info") or {}).get("LICENSE_FAMILY") or "")
    portal.save(update_fields=["license_family", "updated_at"])
    existing_fields = _existing_field_names(first)
    existing_stages = {row["STATUS_ID"] for row in first.results.get("stages") or []}
    second = _second_batch(first, category_id, existing_fields, existing_stages)
    _run_batch(client, second, _("Создание робота, полей и стадий сделки"), require_all=True)
    portal_settings.stage_map = _stage_map(portal_settings, category_id, existing_stages)
    portal_settings.field_map = {key: portal_settings.field_map.get(key) or spec.field_name
                                 for key, spec in DEAL_FIELDS.items()}
    portal_settings.robot_code = ROBOT_CODE
    portal_settings.save(update_fields=["stage_map", "field_map", "robot_code", "updated_at"])


def _handler_url(path: str) -> str:
    return settings.APP_BASE_URL + path


def robot_definition() -> dict:
    """The payment robot (DESIGN §8): USE_SUBSCRIPTION=N, so the automation never waits for us."""
    return {
        "CODE": ROBOT_CODE,
        "HANDLER": _handler_url(ROBOT_HANDLER_PATH),
        "NAME": {"ru": "Уведомить ответственного об оплате", "en": "Notify the responsible user about payment"},
        "DESCRIPTION": {"ru": "Отправляет ответственному по сделке уведомление, что клиент оплатил счет.",
                        "en": "Tells the deal's responsible user that the client has paid."},
        "USE_SUBSCRIPTION": "N",
        "DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "DEAL"],
        "PROPERTIES": {
            "message": {
                "Name": {"ru": "Текст уведомления (необязательно)", "en": "Notification text (optional)"},
                "Type": "text",
                "Required": "N",
            },
        },
    }


def _first_batch(category_id: int) -> dict:
    commands = {"app_info": ("app.info", None)}
    for event in BOUND_EVENTS:
        commands[f"bind_{event}"] = ("event.bind", {"event": event, "handler": _handler_url(EVENTS_HANDLER_PATH)})
    commands["robot_add"] = ("bizproc.robot.add", robot_definition())
    for key, spec in DEAL_FIELDS.items():
        commands[f"uf_{key}"] = ("crm.deal.userfield.list", {"filter": {"FIELD_NAME": spec.field_name}})
    commands["stages"] = ("crm.status.list", {"filter": {"ENTITY_ID": stage_entity_id(category_id)}})
    return commands


def _check_event_bindings(first: BatchResult) -> None:
    for event in BOUND_EVENTS:
        error = first.errors.get(f"bind_{event}")
        if error is not None and error.code != ALREADY_BOUND:
            raise _step_failed(_("Подписка на событие {event}").format(event=event), error)


def _existing_field_names(first: BatchResult) -> set[str]:
    names = set()
    for key in DEAL_FIELDS:
        for row in first.results.get(f"uf_{key}") or []:
            names.add(str(row.get("FIELD_NAME", "")).upper())
    return names


def _second_batch(first, category_id, existing_fields, existing_stages) -> dict:
    commands = {}
    robot_error = first.errors.get("robot_add")
    if robot_error is not None:
        if robot_error.code != ROBOT_ALREADY_INSTALLED:
            raise _step_failed(_("Регистрация робота «Уведомить ответственного об оплате»"), robot_error)
        fields = {key: value for key, value in robot_definition().items() if key != "CODE"}
        commands["robot_update"] = ("bizproc.robot.update", {"CODE": ROBOT_CODE, "FIELDS": fields})
    for key, spec in DEAL_FIELDS.items():
        if spec.field_name not in existing_fields:
            commands[f"uf_add_{key}"] = ("crm.deal.userfield.add", {"fields": _user_field(spec)})
    for stage in LOGICAL_STAGES:
        if portal_stage_id(stage, category_id) not in existing_stages:
            commands[f"stage_add_{stage.code}"] = ("crm.status.add", {"fields": {
                "ENTITY_ID": stage_entity_id(category_id), "STATUS_ID": portal_stage_id(stage, category_id),
                "NAME": stage.name, "SORT": stage.sort, "COLOR": stage.color, "SEMANTICS": ""}})
    return commands


def _user_field(spec) -> dict:
    label = {"ru": spec.label_ru, "en": spec.label_en}
    return {"FIELD_NAME": spec.field_name, "USER_TYPE_ID": spec.user_type_id, "XML_ID": spec.field_name,
            "LABEL": label, "EDIT_FORM_LABEL": label, "LIST_COLUMN_LABEL": label, "LIST_FILTER_LABEL": label,
            "MULTIPLE": "N", "MANDATORY": "N", "SHOW_FILTER": "Y"}


def _stage_map(portal_settings, category_id, existing_stages) -> dict:
    """Our stages by default; an administrator's own choice is kept while that stage exists."""
    stage_map = {}
    for stage in LOGICAL_STAGES:
        chosen = (portal_settings.stage_map or {}).get(stage.code)
        stage_map[stage.code] = chosen if chosen in existing_stages else portal_stage_id(stage, category_id)
    return stage_map


def _run_batch(client, commands: dict, step: str, require_all: bool = False) -> BatchResult:
    if not commands:
        return BatchResult()
    try:
        result = client.batch(commands)
    except BitrixError as exc:
        raise _step_failed(step, exc) from exc
    if require_all and result.errors:
        key, error = next(iter(result.errors.items()))
        raise _step_failed(f"{step} ({key})", error)
    return result


def _step_failed(step: str, error: BitrixError) -> InstallError:
    log.warning("install step %r failed: %s", step, error)
    return InstallError(step, _(
        "Битрикс24 ответил ошибкой: {code} {description}. Убедитесь, что приложение устанавливает администратор "
        "портала, и запустите установку еще раз — уже выполненные шаги повторно не выполняются, установка "
        "продолжится с места остановки.").format(code=error.code, description=error.description).strip())


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
