"""Broken models give clear errors: every problem at once, each naming its file and key path.

The same models through ``supplysim validate`` exit with status 2 and print
the problems on stderr, never a traceback.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from supplysim import ModelError, load_model

VALID = """
[model]
name = "ok"
start = 2024-01-01

[commodities.ore]
content = {NdPr = 0.2, other_re = 0.4}

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.mine]
stage = "mine"
country = "AU"
output = "ore"
capacity = 1000

[facilities.sep]
stage = "separation"
country = "MY"
output = "oxide"
capacity = 200
recipe = {inputs = {ore = 1.0}, yield = 0.2}   # 5 t ore per t oxide
sourcing.ore = {policy = "base_stock", target_days = 30}

[lanes.mine-sep]
from = "mine"
to = "sep"
commodity = "ore"
lead_time = 10

[demand.buyers]
region = "EU"
commodity = "oxide"
rate = 100
at = "sep"
"""

# Several mistakes in one file (each line commented with what is wrong)
BROKEN = """
[model]
name = "broken"

[commodities.ore]
content = {NdPr = 0.2, other_re = 0.4}

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.mine]
stage = "mine"
country = "AU"
output = "ore"
capacity = -5                       # negative capacity
capcity = 100                       # unknown key, did you mean 'capacity'

[facilities.sep]
stage = "separation"
country = "MY"
output = "oxide"
capacity = 0                        # zero capacity
recipe = {inputs = {ore = 1.0}, yield = 1.2}      # yield outside (0, 1]
sourcing.ore = {policy = "base_stock", target = 100}

[facilities.sep2]
stage = "separation"
country = "MY"
output = "oxide"
capacity = 100
recipe = {inputs = {ore = 1.0}, yield = 0.9}       # 0.85 t RE out of 0.2/0.9 in
sourcing.ore = {policy = "base_stock", target = 100}

[lanes.mine-sep]
from = "mine"
to = "sep"
commodity = "ore"
lead_time = 5

[lanes.typo]
from = "mien"                       # unknown facility
to = "sep2"
commodity = "ore"

[lanes.ghost]
from = "sep"
to = "sep2"
commodity = "unobtainium"           # unknown commodity

[demand.buyers]
region = "EU"
commodity = "oxide"
rate = 100
at = "sep"
"""


def _problems(path, scenario=None):
    with pytest.raises(ModelError) as ei:
        load_model(path, scenario=scenario)
    probs = ei.value.problems
    assert probs, "ModelError without problems"
    for p in probs:
        assert isinstance(p.file, str) and p.file
        assert isinstance(p.path, str)
        assert isinstance(p.message, str) and p.message
        assert str(p) in str(ei.value)
    return probs


def _find(probs, path, *words):
    """The problem at ``path`` whose message holds every word (case-insensitive)."""
    hits = [p for p in probs if p.path == path and all(w.lower() in p.message.lower() for w in words)]
    assert hits, f"no problem at {path!r} mentioning {words}; got:\n" + "\n".join(map(str, probs))
    return hits[0]


def _validate(path, *args):
    return subprocess.run([sys.executable, "-m", "supplysim.cli", "validate", str(path), *args],
                          capture_output=True, text=True, timeout=120)


def test_valid_model_loads(write_model):
    m = load_model(write_model(VALID))
    assert set(m.facilities) == {"mine", "sep"}
    assert set(m.lanes) == {"mine-sep"}


def test_all_problems_reported_at_once(write_model):
    path = write_model(BROKEN, "broken.toml")
    probs = _problems(path)
    for p in probs:
        assert p.file.endswith("broken.toml"), p
    p = _find(probs, "facilities.mine.capcity", "unknown key")
    assert "did you mean 'capacity'" in p.message
    _find(probs, "facilities.mine.capacity", "> 0", "-5")
    _find(probs, "facilities.sep.capacity", "> 0", "0")
    _find(probs, "facilities.sep.recipe.yield", "(0, 1]", "1.2")
    _find(probs, "facilities.sep2.recipe", "rare earth")
    _find(probs, "lanes.typo.from", "unknown facility", "mien")
    _find(probs, "lanes.ghost.commodity", "unknown commodity", "unobtainium")
    assert len({p.path for p in probs}) >= 7


@pytest.mark.parametrize("snippet,path,words", [
    ('[facilities.mine]\nstage = "mine"\ncountry = "AU"\noutput = "ore"\ncapacity = 1000\ncolour = "red"\n',
     "facilities.mine.colour", ("unknown key",)),
    ('[lanes.mine-sep]\nfrom = "mine"\nto = "sep"\ncommodity = "ore"\nlead_tme = 10\n',
     "lanes.mine-sep.lead_tme", ("unknown key", "did you mean 'lead_time'")),
    ('[lanes.mine-sep]\nfrom = "mine"\nto = "sepp"\ncommodity = "ore"\nlead_time = 10\n',
     "lanes.mine-sep.to", ("unknown facility", "sepp")),
    ('[lanes.mine-sep]\nfrom = "mine"\nto = "sep"\ncommodity = "oar"\nlead_time = 10\n',
     "lanes.mine-sep.commodity", ("unknown commodity", "oar")),
    ('[lanes.mine-sep]\nfrom = "mine"\nto = "sep"\ncommodity = "ore"\nlead_time = 10\ncapacity = -3\n',
     "lanes.mine-sep.capacity", ("> 0",)),
    ('[lanes.mine-sep]\nfrom = "mine"\nto = "sep"\ncommodity = "ore"\n'
     'lead_time = {dist = "uniform", min = 9, max = 2}\n', "lanes.mine-sep.lead_time", ("min <= max",)),
    ('[facilities.sep]\nstage = "separation"\ncountry = "MY"\noutput = "oxide"\ncapacity = 200\n'
     'recipe = {inputs = {ore = 1.0}, yield = 0}\nsourcing.ore = {policy = "base_stock", target_days = 30}\n',
     "facilities.sep.recipe.yield", ("(0, 1]",)),
    ('[commodities.ore]\ncontent = {NdPr = 0.7, Fe = 0.6}\n', "commodities.ore.content", ("at most 1",)),
    ('[commodities.ore]\ncontent = {NdPr = 0.2, Xx = 0.1}\n', "commodities.ore.content.Xx", ("unknown element",)),
    ('[demand.buyers]\nregion = "EU"\ncommodity = "oxide"\nrate = 100\nat = "sep"\nunmet = "forgotten"\n',
     "demand.buyers.unmet", ("backorder", "lost")),
])
def test_single_mistake_is_named(write_model, snippet, path, words):
    """One mistake in an otherwise valid model: exactly that key is named."""
    import tomllib
    base = tomllib.loads(VALID)
    over = tomllib.loads(snippet)
    for top, tables in over.items():
        for k, v in tables.items():
            base[top][k] = v
    text = _dump(base)
    probs = _problems(write_model(text, "one.toml"))
    _find(probs, path, *words)
    assert all(p.file.endswith("one.toml") for p in probs)


def _dump(d):
    """Minimal TOML writer for the nested tables used here."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v + '"'
        if isinstance(v, dict):
            return "{" + ", ".join(f'"{k}" = {val(x)}' for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if hasattr(v, "isoformat"):
            return v.isoformat()
        return repr(v)
    out = []
    for top, tables in d.items():
        if top == "model":
            out.append("[model]")
            out += [f"{k} = {val(v)}" for k, v in tables.items()]
            continue
        for name, t in tables.items():
            out.append(f'[{top}."{name}"]')
            out += [f'"{k}" = {val(v)}' for k, v in t.items()]
    return "\n".join(out) + "\n"


def test_recipe_outputs_exceeding_inputs(write_model):
    # 1 t ore (0.6 t RE) at yield 0.9 cannot make 1 t of an oxide holding 0.85 t RE
    path = write_model(VALID.replace("inputs = {ore = 1.0}, yield = 0.2", "inputs = {ore = 1.0}, yield = 0.9"))
    probs = _problems(path)
    p = _find(probs, "facilities.sep.recipe", "more rare earth than inputs")
    assert "0.85" in p.message


def test_lane_to_buyer_without_sourcing(write_model):
    path = write_model(VALID.replace('sourcing.ore = {policy = "base_stock", target_days = 30}', ""))
    probs = _problems(path)
    _find(probs, "lanes.mine-sep.to", "no sourcing policy", "ore")


def test_demand_no_source_can_reach(write_model):
    text = VALID + """
[facilities.depot]
stage = "distributor"
country = "DE"
output = "oxide"

[demand.stranded]
region = "DE"
commodity = "oxide"
rate = 50
at = "depot"
"""
    probs = _problems(write_model(text))
    p = _find(probs, "demand.stranded", "no mine or source can reach")
    assert p.file.endswith("model.toml")
    assert not [q for q in probs if q.path == "demand.buyers"]


def test_malformed_toml_names_the_line(write_model):
    text = '[model]\nname = "x"\n\n[commodities.a]\ncontent = {NdPr = 0.5\n'
    probs = _problems(write_model(text, "mal.toml"))
    assert len(probs) == 1
    p = probs[0]
    assert p.file.endswith("mal.toml")
    assert "line 5" in p.message
    assert "TOML" in p.message


def test_duplicate_key_is_malformed(write_model):
    text = VALID.replace('capacity = 1000', 'capacity = 1000\ncapacity = 2000')
    p = _problems(write_model(text, "dup.toml"))[0]
    assert p.file.endswith("dup.toml") and "line" in p.message


def test_extends_chain_names_each_file(write_model):
    """Problems inherited through ``extends`` name the file that holds the bad key."""
    write_model(VALID.replace('country = "AU"', 'country = "AU"\ncolour = "red"'), "base.toml")
    write_model("""
        extends = "base.toml"

        [facilities.sep]
        capacity = -1

        [lanes.mine-sep]
        lead_tme = 3
    """, "child.toml")
    grand = write_model("""
        extends = "child.toml"

        [model]
        name = "grandchild"

        [demand.buyers]
        rate = "lots"
    """, "grandchild.toml")
    probs = _problems(grand)
    assert _find(probs, "facilities.mine.colour", "unknown key").file.endswith("base.toml")
    assert _find(probs, "facilities.sep.capacity", "> 0").file.endswith("child.toml")
    p = _find(probs, "lanes.mine-sep.lead_tme", "unknown key", "did you mean 'lead_time'")
    assert p.file.endswith("child.toml")
    assert _find(probs, "demand.buyers.rate", "number").file.endswith("grandchild.toml")


def test_extends_overrides_are_applied(write_model):
    """A valid chain: the child's values win, the base's others stay."""
    write_model(VALID, "base.toml")
    child = write_model('extends = "base.toml"\n[facilities.sep]\ncapacity = 300\n', "child.toml")
    m = load_model(child)
    assert m.facilities["sep"].capacity.at(0.0) == 300
    assert m.facilities["mine"].capacity.at(0.0) == 1000


def test_extends_circular_and_missing(write_model):
    a = write_model('extends = "b.toml"\n', "a.toml")
    write_model('extends = "a.toml"\n', "b.toml")
    p = _find(_problems(a), "extends", "circular")
    assert p.file.endswith(".toml")
    missing = write_model('extends = "nope.toml"\n', "c.toml")
    p = _problems(missing)[0]
    # the message names the file and key that refer to the missing target, and the target
    assert p.file.endswith("c.toml") and p.path == "extends"
    assert "nope.toml" in p.message and "not found" in p.message


def test_missing_file(tmp_path):
    p = _problems(tmp_path / "absent.toml")[0]
    assert p.file.endswith("absent.toml") and "not found" in p.message


def test_unknown_scenario_lists_available(write_model):
    path = write_model(VALID)
    write_model('[scenario]\nname = "calm"\ndescription = "nothing happens"\n', "scenarios/calm.toml")
    p = _problems(path, scenario="stormy")[0]
    assert "stormy" in p.message and "calm" in p.message


def test_scenario_problems_name_the_scenario_file(write_model):
    path = write_model(VALID)
    write_model('[scenario]\nname = "bad"\n[facilities.mine]\ncapacity = -10\n', "scenarios/bad.toml")
    p = _find(_problems(path, scenario="bad"), "facilities.mine.capacity", "> 0")
    assert p.file.endswith("bad.toml")


# ------------------------------------------------------------------------------------------------
# the command line: exit status 2, the problems on stderr, no traceback


def test_validate_cli_broken(write_model):
    path = write_model(BROKEN, "broken.toml")
    r = _validate(path)
    assert r.returncode == 2, r
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    for key in ("facilities.mine.capcity", "facilities.mine.capacity", "facilities.sep.recipe.yield",
                "lanes.typo.from", "lanes.ghost.commodity"):
        assert key in r.stderr, key
    assert "broken.toml" in r.stderr
    assert "did you mean 'capacity'" in r.stderr


@pytest.mark.parametrize("text,needle", [
    ('[model]\nname = "x"\n[commodities.a]\ncontent = {NdPr = 0.5\n', "line"),
    ('extends = "missing_base.toml"\n', "missing_base.toml"),
])
def test_validate_cli_unreadable(write_model, text, needle):
    r = _validate(write_model(text, "m.toml"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert needle in r.stderr


def test_validate_cli_missing_path(tmp_path):
    r = _validate(tmp_path / "no_such_model")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "not found" in r.stderr


def test_validate_cli_valid(write_model):
    r = _validate(write_model(VALID))
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout and "separation" in r.stdout
    assert r.stderr == ""
