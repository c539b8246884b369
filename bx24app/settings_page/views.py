"""Views of the embedded settings page. Thin: authentication in ``frame_auth``, reads in ``selectors``,
writes in ``services``. See ``frame_auth`` for the frame token and the CSRF approach.

Routes (``bx24app/settings_page/urls.py``, under ``/bitrix/app/``):
  POST ``/bitrix/app/``                     launch from Bitrix24 (or re-render with a frame token)
  POST ``/bitrix/app/save/<section>/``      save one section (``onec`` also checks the connection)
  GET/POST ``/bitrix/app/sync-status/``     latest run + open problems (JSON)
  POST ``/bitrix/app/sync-now/``            start a run (JSON)
  POST ``/bitrix/app/problems/<id>/retry/`` re-queue a sync of that problem's kind (JSON)
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sync.models import SyncProblem

from . import forms, selectors, services
from .frame_auth import (
    FrameAuthError,
    FrameUser,
    authenticate_frame_request,
    frame_ancestors,
    issue_frame_token,
    verify_frame_launch,
)

log = logging.getLogger(__name__)

SECTIONS = ["onec", "prices", "stages", "fields", "responsible", "schedule", "sync", "notify"]
READ_ONLY_MESSAGE = gettext_noop("Только просмотр: изменять настройки могут администраторы портала "
                     "и пользователи из списка «Кто может настраивать».")
EDITORS_ADMIN_ONLY = gettext_noop("Список «Кто может настраивать» меняют только администраторы портала.")


def section_titles():
    return [
        ("onec", _("Подключение к 1С")),
        ("prices", _("Цены")),
        ("stages", _("Воронка и стадии")),
        ("fields", _("Поля сделки")),
        ("responsible", _("Ответственные")),
        ("schedule", _("Расписание")),
        ("sync", _("Синхронизация")),
        ("notify", _("Уведомление об оплате")),
    ]


def kind_labels():
    return {
        "counterparties": _("Контрагенты"),
        "companies": _("Компании"),
        "contacts": _("Контакты"),
        "products": _("Номенклатура"),
        "prices": _("Цены"),
        "orders": _("Заказы"),
        "deals": _("Сделки"),
        "invoices": _("Счета"),
        "payments": _("Оплаты"),
        "realizations": _("Реализации"),
        "users": _("Пользователи"),
        "counterparty": _("Контрагент"),
        "company": _("Компания"),
        "contact": _("Контакт"),
        "product": _("Товар"),
        "price": _("Цена"),
        "order": _("Заказ"),
        "deal": _("Сделка"),
    }


def js_texts():
    return {
        "never": _("Синхронизация ещё не запускалась."),
        "running": _("Выполняется"),
        "finished": _("Последний запуск"),
        "starting": _("Запускаем синхронизацию…"),
        "seconds": _("с"),
        "rest": _("запросов REST"),
        "created": _("создано"),
        "updated": _("обновлено"),
        "unchanged": _("без изменений"),
        "noProblems": _("Проблем нет."),
        "retry": _("Повторить"),
        "retryQueued": _("Повтор запрошен"),
        "showAll": _("Показать все"),
    }


def _frame_headers(response, portal):
    response["Content-Security-Policy"] = frame_ancestors(portal)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _error_page(request, error: FrameAuthError, portal=None):
    response = render(request, "bx24app/settings/error.html", {"message": error.message}, status=error.status)
    return _frame_headers(response, portal)


def _activate_language(request, code: str | None):
    code = (code or "ru").lower()[:2]
    if code not in ("ru", "en"):
        code = "ru"
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


# ---- page assembly ------------------------------------------------------------------------------------------
def _portal_data(portal):
    """What the portal offers, each piece independently (one failing read does not hide the others)."""
    data, errors = {}, {}
    for key, loader in (("pipelines", selectors.portal_pipelines), ("userfields", selectors.deal_userfields),
                        ("users", selectors.portal_users)):
        try:
            data[key] = loader(portal)
        except selectors.PortalDataUnavailable as error:
            data[key] = []
            errors[key] = str(error)
        except Exception as error:  # the page must still open
            log.exception("settings page: reading %s from portal %s failed", key, portal.member_id)
            data[key] = []
            errors[key] = _("Не удалось прочитать данные портала: %(e)s") % {"e": error}
    return data, errors


def _onec_users(portal, portal_settings):
    if not portal_settings.onec_configured:
        return None, _("Сначала укажите подключение к 1С.")
    try:
        return selectors.onec_users(portal, portal_settings), None
    except Exception as error:
        return None, _("Не удалось прочитать пользователей 1С: %(e)s") % {"e": getattr(error, "message", error)}


def _build_forms(portal, portal_settings, data, onec_users, bound=None):
    bound = bound or {}
    stage_initial = {"category_id": portal_settings.category_id}
    for stage in selectors.logical_stages():
        stage_initial[f"stage_{stage.code}"] = (portal_settings.stage_map or {}).get(stage.code, selectors.CREATE)
    field_initial = {}
    for logical in selectors.logical_fields():
        mapped = (portal_settings.field_map or {}).get(logical.key)
        if mapped is None and any(u["FIELD_NAME"] == logical.field_name for u in data["userfields"]):
            mapped = logical.field_name
        field_initial[f"field_{logical.key}"] = mapped or ""
    responsible_initial = {"default_responsible_id": portal_settings.default_responsible_id}
    suggested_refs = frozenset()
    if onec_users:
        suggestion = services.user_map_suggestion(portal, portal_settings, onec_users, data["users"])
        saved = {str(ref) for ref in (portal_settings.user_map or {})}
        suggested_refs = frozenset(ref for ref, uid in suggestion.items() if uid and ref not in saved)
        for index, row in enumerate(onec_users):
            responsible_initial[f"onec_user_{index}"] = suggestion.get(row["ref"])

    def make(name, cls, initial, **extra):
        if name in bound:
            return bound[name]
        return cls(initial=initial, **extra)

    return {
        "onec": make("onec", forms.OnecConnectionForm,
                     {"onec_url": portal_settings.onec_url, "onec_user": portal_settings.onec_user},
                     password_stored=bool(portal_settings.onec_password)),
        "prices": make("prices", forms.PricesForm,
                       {"sale_price_type": portal_settings.sale_price_type,
                        "purchase_price_type": portal_settings.purchase_price_type},
                       price_types=selectors.onec_price_types(portal)),
        "stages": make("stages", forms.StagesForm, stage_initial, pipelines=data["pipelines"]),
        "fields": make("fields", forms.DealFieldsForm, field_initial, userfields=data["userfields"]),
        "responsible": make("responsible", forms.ResponsibleForm, responsible_initial,
                            onec_users=onec_users, portal_users=data["users"], suggested_refs=suggested_refs),
        "editors": make("editors", forms.EditorsForm, {"editor_user_ids": portal_settings.editor_user_ids or []},
                        portal_users=data["users"]),
        "schedule": make("schedule", forms.ScheduleForm,
                         {"schedule_enabled": portal_settings.schedule_enabled,
                          "interval_minutes": portal_settings.interval_minutes,
                          "order_window_days": portal_settings.order_window_days}),
    }


def _current_stage_rows(portal_settings, pipelines):
    names = {s["STATUS_ID"]: s["NAME"] for p in pipelines for s in p.stages}
    rows = []
    for stage in selectors.logical_stages():
        status_id = (portal_settings.stage_map or {}).get(stage.code)
        rows.append({"logical": stage.name, "status_id": status_id or "",
                     "name": names.get(status_id, "") if status_id else ""})
    return rows


def _render_page(request, portal, user: FrameUser, *, token: str, section="onec", bound=None, notice=None,
                 check_report=None, status=200):
    portal_settings = services.portal_settings_for(portal)
    data, data_errors = _portal_data(portal)
    onec_users, onec_users_error = _onec_users(portal, portal_settings)
    page_forms = _build_forms(portal, portal_settings, data, onec_users, bound)
    can_edit = user.can_edit(portal_settings)
    pipeline_names = {p.id: p.name for p in data["pipelines"]}
    context = {
        "portal": portal,
        "frame_user": user,
        "frame_token": token,
        "can_edit": can_edit,
        "read_only_message": _(READ_ONLY_MESSAGE),
        "section": section if section in SECTIONS else "onec",
        "forms": page_forms,
        "data_errors": data_errors,
        "onec_users_error": onec_users_error,
        "notice": notice,
        "check_report": check_report or selectors.cached_check_report(portal),
        "password_stored": bool(portal_settings.onec_password),
        "stage_rows": _current_stage_rows(portal_settings, data["pipelines"]),
        "current_pipeline": pipeline_names.get(portal_settings.category_id, portal_settings.category_id),
        "pipeline_stage_ids": {p.id: [s["STATUS_ID"] for s in p.stages] for p in data["pipelines"]},
        "runs": selectors.recent_runs(portal),
        "problems": selectors.open_problems(portal),
        "status": selectors.sync_status(portal),
        "robot_name": _robot_name(),
        "portal_settings": portal_settings,
        "section_titles": section_titles(),
        "kind_labels": kind_labels(),
        "js_texts": js_texts(),
    }
    response = render(request, "bx24app/settings/page.html", context, status=status)
    return _frame_headers(response, portal)


def _robot_name():
    from bx24app.services.install import robot_definition

    names = robot_definition()["NAME"]
    return names["en"] if (translation.get_language() or "ru").startswith("en") else names["ru"]


# ---- views ----------------------------------------------------------------------------------------------------
@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def app_page(request):
    """Bitrix24 POSTs the frame parameters here (placement DEFAULT). A POST with a frame token re-renders."""
    if request.method == "GET":
        _activate_language(request, request.GET.get("LANG"))
        return _error_page(request, FrameAuthError(_("Откройте приложение из Битрикс24."), 400))
    if "AUTH_ID" in request.POST:
        lang = _activate_language(request, request.GET.get("LANG") or request.POST.get("LANG"))
        try:
            portal, user = verify_frame_launch(request)
        except FrameAuthError as error:
            return _error_page(request, error)
        user = FrameUser(user.member_id, user.user_id, user.is_admin, user.name, lang)
    else:
        try:
            portal, user = authenticate_frame_request(request)
        except FrameAuthError as error:
            return _error_page(request, error)
        _activate_language(request, user.lang)
    section = request.POST.get("section", "onec")
    return _render_page(request, portal, user, token=issue_frame_token(user), section=section)


def _frame_request(request):
    portal, user = authenticate_frame_request(request)
    _activate_language(request, user.lang)
    return portal, user


def _deny(request, portal, user, token, section):
    """A read-only user tried to change something: 403 with the Russian (or translated) message."""
    return _render_page(request, portal, user, token=token, section=section,
                        notice={"level": "danger", "text": _(READ_ONLY_MESSAGE)}, status=403)


@csrf_exempt
@xframe_options_exempt
@require_POST
def section_save(request, section):
    try:
        portal, user = _frame_request(request)
    except FrameAuthError as error:
        return _error_page(request, error)
    token = issue_frame_token(user)
    page_section = "responsible" if section == "editors" else section
    if section not in ("onec", "prices", "stages", "fields", "responsible", "editors", "schedule"):
        raise Http404
    portal_settings = services.portal_settings_for(portal)
    if not user.can_edit(portal_settings) or (section == "editors" and not user.is_admin):
        if section == "editors" and user.can_edit(portal_settings):
            return _render_page(request, portal, user, token=token, section=page_section, status=403,
                                notice={"level": "danger", "text": _(EDITORS_ADMIN_ONLY)})
        return _deny(request, portal, user, token, page_section)

    data, data_errors = _portal_data(portal)
    if section == "onec":
        form = forms.OnecConnectionForm(request.POST, password_stored=bool(portal_settings.onec_password))
    elif section == "prices":
        form = forms.PricesForm(request.POST, price_types=selectors.onec_price_types(portal),
                                initial={"sale_price_type": portal_settings.sale_price_type,
                                         "purchase_price_type": portal_settings.purchase_price_type})
    elif section == "stages":
        form = forms.StagesForm(request.POST, pipelines=data["pipelines"])
    elif section == "fields":
        form = forms.DealFieldsForm(request.POST, userfields=data["userfields"])
    elif section == "responsible":
        onec_users, _error = _onec_users(portal, portal_settings)
        form = forms.ResponsibleForm(request.POST, onec_users=onec_users, portal_users=data["users"])
    elif section == "editors":
        form = forms.EditorsForm(request.POST, portal_users=data["users"])
    else:
        form = forms.ScheduleForm(request.POST)

    if section in ("stages", "fields", "responsible", "editors") and data_errors:
        return _render_page(request, portal, user, token=token, section=page_section, bound={section: form},
                            status=502, notice={"level": "danger", "text": " ".join(data_errors.values())})
    if not form.is_valid():
        return _render_page(request, portal, user, token=token, section=page_section, bound={section: form},
                            status=400, notice={"level": "danger", "text": _("Исправьте ошибки в форме.")})

    check_report = None
    if section == "onec" and request.POST.get("action") == "check":
        check_report = _check_connection(portal, portal_settings, form)
        return _render_page(request, portal, user, token=token, section="onec", bound={"onec": form},
                            check_report=check_report)
    try:
        if section == "stages":
            services.stages_save(portal, form.cleaned_data["category_id"], form.stage_choices())
        else:
            services.settings_save(portal, **form.changes())
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, messages)
        return _render_page(request, portal, user, token=token, section=page_section, bound={section: form},
                            status=400, notice={"level": "danger", "text": _("Исправьте ошибки в форме.")})
    except selectors.PortalDataUnavailable as error:
        return _render_page(request, portal, user, token=token, section=page_section, bound={section: form},
                            status=502, notice={"level": "danger", "text": str(error)})
    if section == "onec":
        selectors.forget_onec_cache(portal)
    log.info("settings page: portal %s user %s saved %s", portal.member_id, user.user_id, section)
    return _render_page(request, portal, user, token=token, section=page_section,
                        notice={"level": "success", "text": _("Настройки сохранены.")})


def _check_connection(portal, portal_settings, form) -> dict:
    """Check the entered values (the stored password when the field is left empty); remember the summary."""
    from sync.onec.check import onec_connection_check

    password = form.cleaned_data.get("onec_password") or portal_settings.onec_password
    report = onec_connection_check(form.cleaned_data["onec_url"], form.cleaned_data["onec_user"], password)
    advice = list(report.advice)
    lines = [line for line in report.summary_lines()[1:] if line not in advice and line != report.error]
    summary = {
        "ok": bool(report.ok),
        "error": report.error,
        "lines": lines,
        "advice": advice,
        "price_types": [p["name"] for p in report.price_types],
        "missing_objects": list(report.missing_objects),
        "configuration_version": report.configuration_version or "",
    }
    if summary["ok"]:
        selectors.remember_check_report(portal, summary)
    return summary


# ---- JSON endpoints ---------------------------------------------------------------------------------------------
def _json_error(error: FrameAuthError):
    return JsonResponse({"ok": False, "error": error.message}, status=error.status)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def sync_status(request):
    try:
        portal, _user = _frame_request(request)
    except FrameAuthError as error:
        return _json_error(error)
    return JsonResponse({"ok": True, **selectors.sync_status(portal)})


@csrf_exempt
@xframe_options_exempt
@require_POST
def sync_now(request):
    try:
        portal, user = _frame_request(request)
    except FrameAuthError as error:
        return _json_error(error)
    if not user.can_edit(services.portal_settings_for(portal)):
        return JsonResponse({"ok": False, "error": _(READ_ONLY_MESSAGE)}, status=403)
    if not services.portal_settings_for(portal).onec_configured:
        return JsonResponse({"ok": False, "error": _("Сначала укажите подключение к 1С.")}, status=400)
    already = services.sync_running(portal)
    if not already:
        services.sync_start(portal)
    return JsonResponse({"ok": True, "already_running": already, **selectors.sync_status(portal)})


@csrf_exempt
@xframe_options_exempt
@require_POST
def problem_retry(request, problem_id):
    try:
        portal, user = _frame_request(request)
    except FrameAuthError as error:
        return _json_error(error)
    if not user.can_edit(services.portal_settings_for(portal)):
        return JsonResponse({"ok": False, "error": _(READ_ONLY_MESSAGE)}, status=403)
    try:
        problem = services.problem_retry(portal, problem_id)
    except SyncProblem.DoesNotExist:
        return JsonResponse({"ok": False, "error": _("Проблема не найдена.")}, status=404)
    return JsonResponse({"ok": True, "problem": selectors.problem_to_json(problem)})

