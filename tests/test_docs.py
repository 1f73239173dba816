"""The README's commands and examples are the ones that work."""
import re
from pathlib import Path

from supplysim import Simulation, load_model

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_install_run_and_test_commands():
    bash = _blocks("bash")
    assert bash[0].strip() == "pip install -e . && supplysim run"
    assert bash[1].strip() == "pip install -e '.[test]' && pytest"
    assert README.index(bash[0]) < README.index("## Tutorial")


def test_ci_runs_the_readme_test_command_in_a_fresh_venv():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv" in ci
    assert _blocks("bash")[1].strip() in ci


def test_readme_model_validates_and_runs(tmp_path):
    toml = _blocks("toml")[0]
    path = tmp_path / "mini.toml"
    path.write_text(toml)
    model = load_model(path)
    assert set(model.facilities) >= {"oxide_supplier", "magnet_maker", "jp_ev"}
    res = Simulation(model, seed=1).run(years=1)
    assert 0.5 < res.regions["JP"]["fill_rate"] <= 1.0
    assert res.lanes["oxide-to-magnets"]["shipped_t"] > 0
