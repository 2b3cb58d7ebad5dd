import rewardkit


def test_all_is_pinned():
    assert sorted(rewardkit.__all__) == [
        "Breakdown", "Composite", "ConfigError", "DataError", "ModelLoadError", "ModelReward",
        "PluginLoadError", "Reward",
        "RewardError", "RewardkitError", "__version__", "hookimpl", "load", "registry", "text_of",
    ]
    for name in rewardkit.__all__:
        assert hasattr(rewardkit, name)


def test_hookimpl_marks_for_project_rewardkit():
    @rewardkit.hookimpl
    def register_rewards(register):
        pass

    assert hasattr(register_rewards, "rewardkit_impl")


def test_core_import_stays_light():
    import subprocess
    import sys

    code = "import sys, rewardkit, rewardkit.cli; print(sorted(m for m in ('torch','transformers','sympy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
