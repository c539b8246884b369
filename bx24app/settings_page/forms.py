"""The forms of the settings page, one per section. Each knows how to build itself from what the portal and
1С offer, validates with field-level messages (Russian by default) and returns only the settings it owns
(``changes()``), so saving one section never touches another."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors
from .selectors import CREATE


class SectionForm(forms.Form):
    section = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def changes(self) -> dict:
        return dict(self.cleaned_data)


# ---- 1. Подключение к 1С --------------------------------------------------------------------------------------
class OnecConnectionForm(SectionForm):
    section = "onec"
    onec_url = forms.URLField(
        label=_("Адрес OData-публикации 1С"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Например: https://1c.example.ru/ut/odata/standard.odata/"),
    )
    onec_user = forms.CharField(label=_("Пользователь 1С"), max_length=150)
    onec_password = forms.CharField(
        label=_("Пароль"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, password_stored: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_stored = password_stored
        if password_stored:
            self.fields["onec_password"].help_text = _("Пароль сохранён. Оставьте поле пустым, чтобы не менять его.")
        else:
            self.fields["onec_password"].help_text = _("Пароль хранится в зашифрованном виде и больше не показывается.")

    def clean_onec_url(self):
        url = self.cleaned_data["onec_url"].strip()
        if not url.startswith(("http://", "https://")):
            raise forms.ValidationError(_("Адрес должен начинаться с http:// или https://."))
        if "odata" not in url.lower():
            raise forms.ValidationError(
                _("Укажите адрес стандартного интерфейса OData, например …/база/odata/standard.odata/.")
            )
        return url if url.endswith("/") else url + "/"

    def changes(self) -> dict:
        data = {"onec_url": self.cleaned_data["onec_url"], "onec_user": self.cleaned_data["onec_user"]}
        if self.cleaned_data.get("onec_password"):
            data["onec_password"] = self.cleaned_data["onec_password"]
        return data


# ---- 2. Цены ---------------------------------------------------------------------------------------------------
class PricesForm(SectionForm):
    section = "prices"

    def __init__(self, *args, price_types: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.price_types_known = price_types is not None
        for name, label in (("sale_price_type", _("Тип цен продажи")),
                            ("purchase_price_type", _("Тип цен закупки"))):
            current = (self.initial or {}).get(name) or ""
            if price_types is None:
                self.fields[name] = forms.CharField(
                    label=label, max_length=150,
                    help_text=_("Список типов цен появится после успешной проверки подключения к 1С."),
                )
            else:
                options = list(dict.fromkeys(price_types))
                if current and current not in options:
                    options.append(current)
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=[("", _("— выберите тип цен —"))] + [(o, o) for o in options],
                    error_messages={"invalid_choice": _("Такого типа цен нет в 1С.")},
                )
            self.fields[name].error_messages["required"] = _("Выберите тип цен.")


# ---- 3. Воронка и стадии -----------------------------------------------------------------------------------------
class StagesForm(SectionForm):
    section = "stages"

    def __init__(self, *args, pipelines: list[selectors.Pipeline], **kwargs):
        super().__init__(*args, **kwargs)
        self.pipelines = {p.id: p for p in pipelines}
        self.fields["category_id"] = forms.TypedChoiceField(
            label=_("Воронка"),
            coerce=int,
            choices=[(p.id, p.name) for p in pipelines],
            error_messages={"invalid_choice": _("Такой воронки нет на портале.")},
        )
        groups = [
            (p.name, [(s["STATUS_ID"], s["NAME"]) for s in p.stages]) for p in pipelines
        ]
        for stage in selectors.logical_stages():
            self.fields[f"stage_{stage.code}"] = forms.ChoiceField(
                label=stage.name,
                choices=[(CREATE, _("Создать стадию «%(name)s»") % {"name": stage.name}), *groups],
                error_messages={"invalid_choice": _("Такой стадии нет на портале."),
                                "required": _("Выберите стадию.")},
            )

    def clean(self):
        data = super().clean()
        category_id = data.get("category_id")
        if category_id is None:
            return data
        own = {s["STATUS_ID"] for s in self.pipelines[category_id].stages}
        seen: dict[str, str] = {}
        for stage in selectors.logical_stages():
            name = f"stage_{stage.code}"
            value = data.get(name)
            if not value or value == CREATE:
                continue
            if value not in own:
                self.add_error(name, _("Стадия не из выбранной воронки «%(p)s».")
                               % {"p": self.pipelines[category_id].name})
            elif value in seen:
                self.add_error(name, _("Эта стадия уже выбрана для «%(other)s».") % {"other": seen[value]})
            else:
                seen[value] = stage.name
        return data

    def stage_choices(self) -> dict[str, str]:
        return {s.code: self.cleaned_data[f"stage_{s.code}"] for s in selectors.logical_stages()}


# ---- 4. Поля сделки ------------------------------------------------------------------------------------------------
class DealFieldsForm(SectionForm):
    section = "fields"

    def __init__(self, *args, userfields: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.userfield_types = {u["FIELD_NAME"]: u.get("USER_TYPE_ID", "") for u in userfields}
        for logical in selectors.logical_fields():
            types = selectors.compatible_types(logical.user_type)
            options = [
                (u["FIELD_NAME"], f"{selectors.userfield_label(u)} ({u['FIELD_NAME']})")
                for u in userfields
                if u.get("USER_TYPE_ID") in types
            ]
            self.fields[f"field_{logical.key}"] = forms.ChoiceField(
                label=logical.label,
                required=False,
                choices=[("", _("— не заполнять —")), *options],
                help_text=_("Тип поля: %(types)s") % {"types": ", ".join(sorted(types))},
                error_messages={"invalid_choice": _("Поле не найдено на портале или его тип не подходит.")},
            )

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for logical in selectors.logical_fields():
            name = f"field_{logical.key}"
            value = data.get(name)
            if not value:
                continue
            if value in seen:
                self.add_error(name, _("Это поле уже используется для «%(other)s».") % {"other": seen[value]})
            seen[value] = logical.label
        return data

    def changes(self) -> dict:
        return {
            "field_map": {
                f.key: self.cleaned_data[f"field_{f.key}"]
                for f in selectors.logical_fields()
                if self.cleaned_data.get(f"field_{f.key}")
            }
        }


# ---- 5. Ответственные --------------------------------------------------------------------------------------------
def _user_choices(portal_users: list[dict]):
    return [(str(u["ID"]), selectors.user_display_name(u)) for u in portal_users]


class ResponsibleForm(SectionForm):
    section = "responsible"

    def __init__(self, *args, onec_users: list[dict] | None, portal_users: list[dict],
                 suggested_refs: frozenset = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.onec_users = onec_users or []
        choices = _user_choices(portal_users)
        for index, row in enumerate(self.onec_users):
            label = row["name"] + (f" <{row['email']}>" if row.get("email") else "")
            self.fields[f"onec_user_{index}"] = forms.TypedChoiceField(
                label=label,
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", _("— не сопоставлен —")), *choices],
                error_messages={"invalid_choice": _("Такого пользователя нет на портале.")},
            )
            if row["ref"] in suggested_refs:
                self.fields[f"onec_user_{index}"].help_text = _(
                    "Предложено автоматически по ФИО/e-mail — нажмите «Сохранить», чтобы применить."
                )
        self.fields["default_responsible_id"] = forms.TypedChoiceField(
            label=_("Ответственный по умолчанию (для сделок и клиентов)"),
            coerce=int,
            choices=[("", _("— выберите пользователя —")), *choices],
            help_text=_("Назначается, когда у документа 1С нет ответственного или он не сопоставлен."),
            error_messages={"required": _("Выберите ответственного по умолчанию."),
                            "invalid_choice": _("Такого пользователя нет на портале.")},
        )

    def changes(self) -> dict:
        data = {"default_responsible_id": self.cleaned_data["default_responsible_id"]}
        if self.onec_users:
            data["user_map"] = {
                row["ref"]: self.cleaned_data[f"onec_user_{i}"]
                for i, row in enumerate(self.onec_users)
                if self.cleaned_data.get(f"onec_user_{i}")
            }
        return data


class EditorsForm(SectionForm):
    section = "editors"

    def __init__(self, *args, portal_users: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["editor_user_ids"] = forms.TypedMultipleChoiceField(
            label=_("Кто может настраивать"),
            required=False,
            coerce=int,
            choices=[(c, n) for c, n in _user_choices([u for u in portal_users if not u.get("IS_ADMIN")])],
            widget=forms.CheckboxSelectMultiple,
            help_text=_("Администраторы портала могут настраивать всегда. Остальные видят страницу только для чтения."),
            error_messages={"invalid_choice": _("Такого пользователя нет на портале.")},
        )


# ---- 6. Расписание ------------------------------------------------------------------------------------------------
class ScheduleForm(SectionForm):
    section = "schedule"
    schedule_enabled = forms.BooleanField(label=_("Синхронизировать по расписанию"), required=False)
    interval_minutes = forms.IntegerField(
        label=_("Интервал, минут"), min_value=1, max_value=1440,
        error_messages={"required": _("Укажите интервал."), "invalid": _("Введите целое число минут.")},
    )
    order_window_days = forms.IntegerField(
        label=_("Окно заказов, дней"), min_value=1, max_value=3650,
        help_text=_("Заказы 1С старше этого срока не загружаются и не обновляются."),
        error_messages={"required": _("Укажите окно заказов."), "invalid": _("Введите целое число дней.")},
    )
