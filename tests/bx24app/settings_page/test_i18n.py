"""The English translation is complete and compiled (no gettext needed at test time)."""

import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"


def test_every_message_has_an_english_translation():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = re.findall(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', text, re.M)
    untranslated = [
        "".join(re.findall(r'"(.*)"', msgid))
        for msgid, msgstr in entries
        if "".join(re.findall(r'"(.*)"', msgid)) and not "".join(re.findall(r'"(.*)"', msgstr))
    ]
    assert len(entries) > 150
    assert untranslated == []
    assert "#, fuzzy" not in text


def test_compiled_catalogue_is_committed():
    from django.utils import translation

    assert (LOCALE / "django.mo").stat().st_size > 10000
    with translation.override("en"):
        assert translation.gettext("Синхронизировать сейчас") == "Sync now"
