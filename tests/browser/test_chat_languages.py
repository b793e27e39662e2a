"""Two visitors in different languages (one Arabic) read each other in their own language."""

from __future__ import annotations

import pytest

from tests.chat.test_translation import FakeLibreTranslate
from tests.conftest import start_server
from tests.curate.conftest import fresh_data_dir
from thirdspace.config import Settings


@pytest.fixture
async def translating_server(server, scenes_dir, tmp_path):
    fake = FakeLibreTranslate()
    url = await fake.start()
    settings = Settings.load(environ={}, scenes_dir=scenes_dir, data_dir=fresh_data_dir(server, tmp_path), translator="libretranslate",
                             translator_url=url)  # fmt: skip
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()
    await fake.runner.cleanup()


def lines(chat: list[dict], text: str) -> list[dict]:
    return [line for line in chat if text in line["text"]]


async def test_quick_chat_and_free_text_in_each_readers_language(translating_server, visit):
    base = translating_server.http
    english = await visit()
    arabic = await visit()
    await arabic.page.goto(f"{base}/?scene=caravanserai&lang=ar")
    await arabic.page.wait_for_selector("#lobby:not([hidden])")
    assert await arabic.page.evaluate("document.documentElement.dir") == "rtl"
    assert await arabic.page.text_content("#join") == "ادخل"
    await arabic.join(base, "caravanserai", "Basma", "ar")
    await english.join(base, "caravanserai", "Alex", "en")
    assert await english.page.evaluate("document.documentElement.dir") == "ltr"

    # Quick chat: sent by id, read from each reader's own table, with the scene's own names.
    await english.page.select_option("#quick-phrase", "where_is")
    await english.page.select_option("#quick-thing", "fountain")
    await english.page.click("#quick-send")
    await arabic.page.wait_for_function("thirdspace.chat().some(l => l.text === 'أين نافورة؟')", timeout=5000)
    await english.page.wait_for_function("thirdspace.chat().some(l => l.text === 'Where is Fountain?')", timeout=5000)
    await arabic.page.select_option("#quick-phrase", "thank_you")
    await arabic.page.click("#quick-send")
    await english.page.wait_for_function("thirdspace.chat().some(l => l.text === 'Thank you!')", timeout=5000)

    # Free text: the original at once, the translation after, the original one tap away; the glossary term kept.
    await english.page.fill("#chat-input", "Meet me at the caravanserai")
    await english.page.press("#chat-input", "Enter")
    await arabic.page.wait_for_function("thirdspace.chat().some(l => l.text === '<ar> Meet me at the خان')", timeout=5000)
    (line,) = lines(await arabic.page.evaluate("thirdspace.chat()"), "<ar>")
    assert line["meta"].startswith("ترجمة آلية") and line["lang"] == "ar"
    toggle = arabic.page.locator(f"#chat-log li[data-chat='{line['id']}'] button.original")
    await toggle.click()
    await arabic.page.wait_for_function(
        f"thirdspace.chat().find(l => l.id === {line['id']}).text === 'Meet me at the caravanserai'", timeout=5000
    )
    assert await toggle.text_content() == "اعرض الترجمة"

    # An Arabic line reaches the English page with its language named, then translated.
    await arabic.page.fill("#chat-input", "أهلًا بكم في الخان")
    await arabic.page.press("#chat-input", "Enter")
    await english.page.wait_for_function("thirdspace.chat().some(l => l.text.startsWith('<en>'))", timeout=5000)
    assert english.errors == [] and arabic.errors == []
