import json
import textwrap

import pytest

import rewardkit
from rewardkit.cli import main
from rewardkit.plugins import Registry


def make_dist(root, dist, ep, module, source):
    """A distribution on sys.path: a module plus a dist-info with a `rewardkit` entry point."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(f"[rewardkit]\n{ep} = {module}\n")


SHOUT = """
import rewardkit

class Shouting(rewardkit.Reward):
    name = "shouting"
    factor: float = 1.0

    def score(self, prompts, completions, **columns):
        return [self.factor * float(c.isupper()) for c in completions]

@rewardkit.hookimpl
def register_rewards(register):
    register(Shouting)
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_first_party_plugins_come_through_entry_points():
    infos = Registry().rewards()
    assert infos["length"].distribution == "rewardkit-length"
    assert infos["format"].distribution == "rewardkit-format"
    assert infos["length"].version == rewardkit.__version__  # lockstep versions


def test_third_party_entry_point_is_discovered(site):
    make_dist(site, "rewardkit-shouting", "shouting", "rk_shouting", SHOUT)
    info = Registry().rewards()["shouting"]
    assert (info.distribution, info.version, info.plugin) == ("rewardkit-shouting", "0.3", "shouting")
    assert info.cls(factor=2).score(["p"], ["HEY"]) == [2.0]


def test_name_registered_twice_names_both_distributions(site):
    make_dist(site, "rewardkit-shouting", "shouting", "rk_shouting", SHOUT)
    make_dist(site, "other-shouting", "shouting2", "rk_shouting2", SHOUT)
    with pytest.raises(rewardkit.ConfigError, match=r"reward 'shouting' is registered twice: by (rewardkit-shouting|other-shouting) .* and by (other-shouting|rewardkit-shouting)"):
        Registry().rewards()


def test_broken_plugin_is_listed_and_others_still_work(site, capsys):
    make_dist(site, "rewardkit-broken", "broken", "rk_broken", "import not_a_real_module_xyz\n")
    reg = rewardkit.plugins.reset_registry()
    assert "length" in reg.rewards()
    [failed] = [f for f in reg.failed() if f.name == "broken"]
    assert failed.distribution == "rewardkit-broken"
    assert "ModuleNotFoundError: No module named 'not_a_real_module_xyz'" in failed.error
    with pytest.raises(rewardkit.PluginLoadError, match=r"entry 1: reward 'broken' is provided by plugin 'broken' \(rewardkit-broken\), which failed to load: ModuleNotFoundError.*fix: pip install --upgrade --force-reinstall 'rewardkit-broken'"):
        rewardkit.load({"rewards": ["broken"]})
    assert main(["plugins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    [row] = [r for r in rows if r["name"] == "broken"]
    assert "not_a_real_module_xyz" in row["error"]


def test_plugin_whose_hook_raises_is_recorded(site):
    make_dist(site, "rewardkit-badhook", "badhook", "rk_badhook", """
import rewardkit

@rewardkit.hookimpl
def register_rewards(register):
    raise RuntimeError("hook exploded")
""")
    reg = Registry()
    assert any(f.name == "badhook" and "hook exploded" in f.error for f in reg.failed())


def test_registering_a_non_reward_is_refused():
    class NotAReward:
        name = "x"

    reg = Registry(autoload=False)

    class P:
        @rewardkit.hookimpl
        def register_rewards(self, register):
            register(NotAReward)

    reg.register_plugin(P(), name="p")
    assert any("not a rewardkit.Reward subclass" in f.error for f in reg.failed())


def test_disable_autoload(monkeypatch):
    monkeypatch.setenv("REWARDKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert "length" not in Registry().rewards()


def test_load_only_named_plugins(monkeypatch, site):
    make_dist(site, "rewardkit-shouting", "shouting", "rk_shouting", SHOUT)
    monkeypatch.setenv("REWARDKIT_LOAD_PLUGINS", "length,rewardkit-shouting")
    assert set(Registry().rewards()) == {"length", "shouting"}


def test_in_process_plugin_registered_after_load():
    reg = Registry(autoload=False)
    reg.rewards()

    class Late(rewardkit.Reward):
        name = "late"

        def score(self, prompts, completions, **columns):
            return [0.0] * len(completions)

    class P:
        @rewardkit.hookimpl
        def register_rewards(self, register):
            register(Late)

    reg.register_plugin(P(), name="late-plugin", distribution="late-dist", version="1")
    assert reg.rewards()["late"].distribution == "late-dist"


def test_plugins_cli_text_and_json(capsys):
    assert main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert "length  (rewardkit-length 0.1.0)" in text and "max_tokens: int = 256" in text
    assert main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["exclaim"]["distribution"] == "rewardkit-testplugin"
    assert rows["length"]["options"]["max_tokens"]["default"] == 256
    assert set(rows["format"]) >= {"name", "distribution", "version", "options"}
