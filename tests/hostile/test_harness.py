"""The harness itself catches what it is meant to catch."""

import pytest
from hostile.harness import assert_one_line_error, assert_unchanged, make_plugin, run_cli, snapshot


def test_a_clean_error_passes_and_a_missing_needle_fails(tmp_path):
    run = run_cli("score", "missing.yaml", "missing.jsonl", cwd=tmp_path)
    line = assert_one_line_error(run, "missing.yaml")
    assert line.startswith("rewardkit: error:")
    with pytest.raises(AssertionError, match="does not name"):
        assert_one_line_error(run, "a needle that is not there")
    assert run.max_rss_mb > 1


def test_make_plugin_installs_a_plugin_the_cli_sees(tmp_path):
    env = make_plugin(tmp_path / "site", "rk_boom", """
        import rewardkit

        class Boom(rewardkit.Reward):
            name = "boom"
            def score(self, prompts, completions, **columns):
                raise SystemExit("plugin called sys.exit")

        @rewardkit.hookimpl
        def register_rewards(register):
            register(Boom)
    """)
    run = run_cli("plugins", "--json", cwd=tmp_path, env=env)
    assert run.returncode == 0 and '"boom"' in run.stdout  # the plugin is visible as installed


def test_snapshot_sees_a_changed_file(tmp_path):
    (tmp_path / "a.txt").write_text("1")
    before = snapshot(tmp_path)
    (tmp_path / "a.txt").write_text("2")
    with pytest.raises(AssertionError, match="a.txt"):
        assert_unchanged(before, tmp_path)
    assert_unchanged(before, tmp_path, allow=("a.txt",))
