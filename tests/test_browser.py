"""The query page in a real browser: headless Debian Chromium driven by Playwright.

The server runs in a background thread (uvicorn) on a free loopback port, on a store built from
tests/fixtures/mini plus one article whose alias is ``<script>alert(1)</script>``.  Skipped, with
the reason, when Playwright or Chromium is missing (``apt-get install -y chromium`` is tried
first when running as root with apt).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = "<script>alert(1)</script>"
# Markdown-escaped angle brackets: the bold title term (the article's dcterms:title and an alias
# of res:丁朝) is the literal text <script>alert(1)</script>.
XSS_ARTICLE = r"**\<script\>alert(1)\</script\>**是虛構的朝代。" + "\n"


def _chromium() -> str:
    if not os.path.exists(CHROMIUM) and hasattr(os, "geteuid") and os.geteuid() == 0 \
            and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "chromium"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=600, check=False)
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (install it: apt-get install -y chromium)")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BackgroundServer:
    """uvicorn serving ``app`` on a free loopback port in a daemon thread."""

    def __init__(self, app) -> None:
        import uvicorn

        from shilu.graph.server import _http_option

        self.port = free_port()
        # the HTTP protocol `shilu serve` runs (the page's queries go through its fast path)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False,
                                                    http=_http_option()))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory, mini_dir):
    from shilu.graph.build import build
    from shilu.graph.server import create_app

    corpus = tmp_path_factory.mktemp("corpus")
    for f in Path(mini_dir).iterdir():
        shutil.copy(f, corpus / f.name)
    (corpus / "丁朝.md").write_text(XSS_ARTICLE, encoding="utf-8")
    store = tmp_path_factory.mktemp("browser") / "store"
    build([corpus], store, jobs=1)
    with BackgroundServer(create_app(store)) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        except Exception as e:  # noqa: BLE001 - a broken browser install is not our failure
            pytest.skip(f"cannot launch {executable}: {e}")
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.dialogs, pg.errors = dialogs, errors
    yield pg
    context.close()


def test_query_page_runs_the_default_query(site, page):
    page.goto(site + "/")
    assert "shilu" in page.title().lower() or page.locator("h1").count() == 1
    editor = page.locator("#query")
    assert "SELECT" in editor.input_value()
    page.locator("#query-form button[type=submit]").click()
    rows = page.locator("#results table tbody tr")
    rows.first.wait_for(timeout=15_000)
    assert rows.count() > 0
    assert page.locator("#status").inner_text().strip()
    assert not page.errors, page.errors

    # a resource in the table links to its page on this server
    link = page.locator("#results table tbody a[href*='/resource/']").first
    link.wait_for(timeout=5_000)
    link.click()
    page.wait_for_url("**/resource/**", timeout=10_000)
    assert "/resource/" in page.url
    assert page.locator("h1").count() >= 1
    assert not page.dialogs and not page.errors


def test_script_in_a_label_renders_as_text(site, page):
    # the resource and article pages (server-side HTML)
    for path in ("/resource/丁朝", "/source/丁朝"):
        response = page.goto(site + path)
        assert response is not None and response.status == 200, path
        assert XSS in page.locator("body").inner_text(), path
        assert page.locator("script:not([src])").count() == 0, path

    # the results table (built by the page's script)
    query = ("SELECT ?s ?alias WHERE { ?s <http://www.w3.org/2004/02/skos/core#altLabel> ?alias "
             "FILTER(CONTAINS(STR(?alias), 'script')) }")
    page.goto(site + "/?" + urlencode({"query": query}))
    rows = page.locator("#results table tbody tr")
    rows.first.wait_for(timeout=15_000)
    assert XSS in page.locator("#results").inner_text()
    assert page.locator("#results script").count() == 0
    page.wait_for_timeout(300)  # give an injected script the chance to run
    assert page.dialogs == [], f"a dialog fired: {page.dialogs}"
    assert not page.errors, page.errors
