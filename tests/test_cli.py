"""The command line: every entry point imports, every subcommand has --help, --quiet and
--verbose, errors are one line naming the file, pictures and exports land in files."""

from __future__ import annotations

import argparse
import csv
import importlib
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from shilu.graph import cli

from conftest import ROOT

SHILU = [sys.executable, "-m", "shilu.graph.cli"]


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*SHILU, *args], capture_output=True, text=True, timeout=600, **kw)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    p = cli.parser()
    action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# --------------------------------------------------------------------------------------------
# Entry points and help


def test_every_entry_point_imports():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts
    for name, target in scripts.items():
        module, _, attr = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), name


def test_main_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n  {code}" in out, code
    for name in subcommands():
        assert name in out


def test_subcommands():
    assert {"build", "query", "export", "eval", "serve", "timeline", "neighbourhood"} <= set(subcommands())


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_help_of_every_subcommand(name, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([name, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: shilu {name}")
    assert "--quiet" in out and "--verbose" in out
    assert "example" in out


def test_help_through_the_installed_command():
    r = subprocess.run([str(Path(sys.executable).parent / "shilu"), "--help"], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0 and "No such file" in r.stderr:
        pytest.skip("the shilu console script is not installed beside this Python")
    assert r.returncode == 0 and "exit codes" in r.stdout


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["query", "--list", "-q", "-v"])
    assert e.value.code == 2


# --------------------------------------------------------------------------------------------
# Errors: one line, naming the file


def _one_line_error(r: subprocess.CompletedProcess, command: str) -> str:
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"shilu {command}: error: ")
    assert "Traceback" not in r.stderr
    return lines[0]


def test_errors_are_one_line(tmp_path, seed_store):
    missing = tmp_path / "no-store"
    line = _one_line_error(run("query", "captures", "--store", str(missing)), "query")
    assert str(missing) in line
    line = _one_line_error(run("query", str(tmp_path / "nothing.rq"), "--store", str(seed_store)), "query")
    assert "nothing.rq" in line
    line = _one_line_error(run("query", "no-such-query", "--store", str(seed_store)), "query")
    assert "no named query" in line
    line = _one_line_error(run("timeline", "金朝", "--store", str(missing)), "timeline")
    assert str(missing) in line
    line = _one_line_error(run("timeline", "並無此物", "--store", str(seed_store)), "timeline")
    assert "並無此物" in line
    target = tmp_path / "no-dir" / "x.ttl"
    line = _one_line_error(run("export", "--store", str(seed_store), "-o", str(target)), "export")
    assert str(target) in line
    line = _one_line_error(run("export", "--store", str(seed_store), "--format", "neo4j-csv"), "export")
    assert "-o DIR" in line
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE { ?x", encoding="utf-8")
    line = _one_line_error(run("query", str(bad), "--store", str(seed_store)), "query")
    assert "bad" in line and "malformed" in line


def test_a_closed_pipe_is_not_an_error(seed_store):
    p = subprocess.Popen([*SHILU, "query", "captures", "--store", str(seed_store)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------------
# Named queries from the command line


def test_query_list(capsys):
    assert cli.main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert len(names) >= 15 and "polity-timeline" in names
    assert "--param polity=金朝" in out


def test_query_with_a_parameter(corpus_store, capsys):
    assert cli.main(["query", "polity-timeline", "--param", "polity=金朝", "--store", str(corpus_store),
                     "--format", "csv", "-q"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(captured.out.splitlines()))
    assert any(r["year"] == "1122" and r["object"] == "大定府" and r["what"] == "captured" for r in rows)
    assert captured.err == ""  # --quiet: no row count


def test_query_table_and_verbose(seed_store, capsys):
    assert cli.main(["query", "rulers", "--param", "dynasty=遼朝", "--store", str(seed_store), "-v"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split()[:2] == ["ruler", "name"]
    assert '"遼朝"' in captured.err  # --verbose shows the SPARQL that ran
    assert "row" in captured.err


# --------------------------------------------------------------------------------------------
# Pictures and property graphs


def test_timeline_file(corpus_store, tmp_path):
    out = tmp_path / "jin.svg"
    r = run("timeline", "金國", "--store", str(corpus_store), "-o", str(out))
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    texts = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("}text")]
    assert "金朝大事年表" in texts and "攻佔" in texts
    assert str(out) in r.stderr
    r = run("timeline", "金朝", "--store", str(corpus_store), "--rows", "counterpart", "--script", "zh-Hans", "-q")
    assert r.returncode == 0 and r.stderr == ""
    assert "辽朝" in r.stdout and ET.fromstring(r.stdout.encode())


def test_neighbourhood_file(corpus_store, tmp_path):
    out = tmp_path / "jin.svg"
    r = run("neighbourhood", "金朝", "--store", str(corpus_store), "-o", str(out), "--limit", "10")
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    texts = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("}text")]
    assert "金朝" in texts and "遼朝" in texts
    assert sum(1 for g in root.iter() if g.get("class") == "node") <= 10


def test_export_property_graphs(seed_store, tmp_path):
    r = run("export", "--store", str(seed_store), "--format", "neo4j-csv", "-o", str(tmp_path / "neo"), "-v")
    assert r.returncode == 0, r.stderr
    assert {p.name for p in (tmp_path / "neo").iterdir()} == {"nodes.csv", "edges.csv", "import.cypher"}
    assert "nodes.csv" in r.stderr
    r = run("export", "--store", str(seed_store), "--format", "graphml", "-o", str(tmp_path / "g.graphml"))
    assert r.returncode == 0, r.stderr
    assert ET.parse(tmp_path / "g.graphml").getroot().tag.endswith("graphml")
    r = run("export", "--store", str(seed_store), "--format", "graphml")
    assert r.returncode == 0 and r.stdout.startswith("<?xml")
