"""The curator page's words: every language of translations.js has exactly the English keys of words.js, with the
same {placeholders} (a missing key would show English in the middle of an Arabic page; a lost placeholder, a
sentence without its number)."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.conftest import PROJECT_ROOT

SCRIPT = """
globalThis.localStorage = { getItem() { return null; }, setItem() {} };
const { words } = await import("./web_client/src/curate/words.js");
const holes = (s) => [...s.matchAll(/\\{(\\w+)\\}/g)].map((m) => m[1]).sort().join(",");
const english = words.tables.en;
const out = {};
for (const [language, table] of Object.entries(words.tables)) {
  out[language] = {
    missing: Object.keys(english).filter((k) => !(k in table)),
    extra: Object.keys(table).filter((k) => !(k in english)),
    placeholders: Object.keys(english).filter((k) => k in table && holes(table[k]) !== holes(english[k])),
  };
}
console.log(JSON.stringify({ count: Object.keys(english).length, languages: out }));
"""


def test_every_language_has_every_key_with_its_placeholders():
    node = shutil.which("node")
    assert node, "Node.js is needed: run the README's test command"
    result = subprocess.run([node, "--input-type=module", "-e", SCRIPT], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    assert report["count"] > 200
    assert set(report["languages"]) == {"en", "fr", "es", "ar", "zh", "hi", "sw", "ja", "de", "pt"}
    problems = {language: found for language, found in report["languages"].items() if any(found.values())}
    assert problems == {}
