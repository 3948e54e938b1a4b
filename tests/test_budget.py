from auditory_deepdream.budget import budget, is_smoke


def test_smoke_budget_is_smaller(monkeypatch):
    monkeypatch.setenv("AUDITORY_DEEPDREAM_SMOKE", "1")
    small = budget()
    monkeypatch.setenv("AUDITORY_DEEPDREAM_SMOKE", "0")
    full = budget()
    assert small.smoke and not full.smoke and not is_smoke()
    assert small.epochs < full.epochs and small.dream_steps < full.dream_steps
    assert small.long_seconds < full.long_seconds and small.search_trials <= full.search_trials
