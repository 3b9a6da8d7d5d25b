"""The curl examples in README.md work: each fenced ``sh`` block that starts with ``curl`` and
talks to http://127.0.0.1:7878 is run against a server (on a free port) serving a store built
from ../shared/seeds."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, need_shared
from test_browser import BackgroundServer

README = ROOT / "README.md"
DOC_URL = "http://127.0.0.1:7878"
_FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def curl_blocks(text: str) -> list[str]:
    """The ``sh`` blocks whose first line is a curl command against the documented port."""
    blocks = []
    for match in _FENCE.finditer(text):
        block = match.group(1).strip()
        if block.startswith("curl") and DOC_URL in block:
            blocks.append(block)
    return blocks


def test_readme_has_curl_examples():
    blocks = curl_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3, blocks
    assert any("text/csv" in b for b in blocks)
    assert any("/resource/" in b for b in blocks)


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory):
    need_shared()
    from shilu.graph.build import build
    from shilu.graph.server import create_app

    store = tmp_path_factory.mktemp("readme") / "store"
    build([ROOT.parent / "shared" / "seeds"], store, jobs=1)
    with BackgroundServer(create_app(store)) as server:
        yield server.url


@pytest.mark.parametrize("block", curl_blocks(README.read_text(encoding="utf-8")),
                         ids=lambda b: b.splitlines()[0][:60])
def test_readme_curl_example(seed_server, block, tmp_path: Path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    script = block.replace(DOC_URL, seed_server)
    # fail on HTTP errors, no progress meter; one command per (continued) line, all must pass
    script = re.sub(r"(?m)^curl ", "curl -sS --fail --max-time 60 ", script)
    result = subprocess.run(["bash", "-e", "-c", script], capture_output=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, (script, result.stderr.decode(errors="replace"))
    assert result.stdout.strip(), script
