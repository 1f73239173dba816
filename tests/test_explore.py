"""Exploration: key-path overrides, specs, designs, the run pipeline, sensitivity, PRIM, exports."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from supplysim.model import ModelError, load_model
from supplysim.model.overlay import Overrides, parse_key_path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = str(ROOT / "models" / "examples" / "tutorial.toml")


# ---- key-path overrides ----------------------------------------------------------------------------------
def test_override_sets_the_value_records_its_file_and_changes_the_digest():
    base = load_model(TUTORIAL)
    ov = Overrides.of({"facilities.alloy_kr.capacity": 2500, "lanes.sep-alloy-dy.lead_time.max": 40},
                      source="spec.toml")
    m = load_model(TUTORIAL, overrides=ov)
    assert m.facilities["alloy_kr"].capacity.at(0.0) == 2500
    assert base.facilities["alloy_kr"].capacity.at(0.0) == 5000
    assert m.lanes["sep-alloy-dy"].lead_time.params == {"min": 7.0, "max": 40.0}
    assert (m.files["spec.toml (overrides)"]
            == "facilities.alloy_kr.capacity = 2500\nlanes.sep-alloy-dy.lead_time.max = 40\n")
    assert m.digest() != base.digest()
    assert load_model(TUTORIAL, overrides=ov).digest() == m.digest()
    other = Overrides.of({"facilities.alloy_kr.capacity": 2501, "lanes.sep-alloy-dy.lead_time.max": 40},
                         source="spec.toml")
    assert load_model(TUTORIAL, overrides=other).digest() != m.digest()


def test_override_of_a_path_the_model_lacks_names_the_spec_file_and_the_key():
    with pytest.raises(ModelError) as e:
        load_model(TUTORIAL, overrides=Overrides.of({"facilities.alloy_kr.capacty": 1.0,
                                                     "facilities.nope.capacity": 1.0,
                                                     "facilities.alloy_kr": 3.0}, source="my-spec.toml"))
    text = str(e.value)
    assert "my-spec.toml: facilities.alloy_kr.capacty: no key 'capacty'" in text
    assert "did you mean 'capacity'" in text
    assert "my-spec.toml: facilities.nope.capacity: no key 'nope' in 'facilities'" in text
    assert "my-spec.toml: facilities.alloy_kr: 'facilities.alloy_kr' is a table" in text
    assert len(e.value.problems) == 3


def test_an_overridden_value_out_of_range_is_reported_by_validation_against_the_spec_file():
    with pytest.raises(ModelError) as e:
        load_model(TUTORIAL, overrides=Overrides.of({"facilities.alloy_kr.capacity": -5.0}, source="s.toml"))
    assert any(p.file == "s.toml" and p.path == "facilities.alloy_kr.capacity" for p in e.value.problems), e.value


@pytest.mark.parametrize("text, segs", [("a.b.0.c", ("a", "b", "0", "c")), ('a."x.y".z', ("a", "x.y", "z"))])
def test_key_paths_split_on_dots_and_quotes_keep_dotted_ids(text, segs):
    assert parse_key_path(text) == segs


@pytest.mark.parametrize("text", ["", "a..b", 'a."b', "a.", 3])
def test_malformed_key_paths_are_refused(text):
    with pytest.raises(ValueError):
        parse_key_path(text)


def test_an_experiment_task_runs_a_design_point_under_its_own_label():
    import dataclasses

    from supplysim.experiment.experiment import ExperimentTask, run_experiment_task
    t = ExperimentTask(TUTORIAL, "baseline", 3, 0, 300.0)
    base = run_experiment_task(t)
    ov = Overrides.of({"facilities.alloy_kr.capacity": 500.0}, "s.toml")
    point = run_experiment_task(dataclasses.replace(t, overrides=ov, label="x00001"))
    assert (base[0], point[0]) == ("baseline", "x00001")
    assert point[2]["fill_rate"] < base[2]["fill_rate"] - 0.1
    again = run_experiment_task(t)[2]                # the cache keeps the models apart (NaN-aware compare)
    assert json.dumps(again, sort_keys=True) == json.dumps(base[2], sort_keys=True)
