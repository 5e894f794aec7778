"""The validate pipeline's judgements (compare/acceptance.py) on numbers with a known answer."""

from types import SimpleNamespace

import pytest

from statmech_nn.compare.acceptance import acceptance, passed, preference, sampler_z_score, with_probe_verdict
from statmech_nn.compare.verdicts import Verdict
from statmech_nn.experiments.spec import AcceptanceSpec


def _claim(claim_id, as_expected):
    return SimpleNamespace(claim=SimpleNamespace(id=claim_id), as_expected=as_expected)


TRAINING = SimpleNamespace(final_test_accuracy=0.93, equilibrium_epoch=7, equilibrium_reached=True,
                           equilibrium_criterion="trend")
SAMPLERS = [SimpleNamespace(method="exact", z_score=0.5), SimpleNamespace(method="mh", z_score=-3.9)]


def test_every_rule_holds_on_a_good_run():
    checks = acceptance(AcceptanceSpec(), TRAINING, SAMPLERS, [_claim("a", True), _claim("b", True)])
    assert [c["passed"] for c in checks] == [True] * 5 and passed(checks)
    assert checks[0]["criterion"] == "test accuracy >= 0.9" and checks[0]["value"] == 0.93
    assert checks[1]["value"] == 7 and "criterion 'trend'" in checks[1]["criterion"]
    assert [c["criterion"].split(":")[0] for c in checks[2:4]] == ["exact", "mh"]
    assert checks[4]["value"] == "all"


def test_each_rule_fails_on_its_own_number():
    training = SimpleNamespace(final_test_accuracy=0.5, equilibrium_epoch=None, equilibrium_reached=False,
                               equilibrium_criterion="loss")
    samplers = [SimpleNamespace(method="langevin", z_score=4.01)]
    checks = acceptance(AcceptanceSpec(), training, samplers, [_claim("a", True), _claim("b", False)])
    assert [c["passed"] for c in checks] == [False] * 4 and not passed(checks)
    assert checks[3]["value"] == "b"


def test_rules_the_spec_does_not_require_are_not_judged():
    criteria = AcceptanceSpec(min_test_accuracy=0.5, require_equilibrium=False, max_sampler_z=5.0,
                              require_claims=False)
    checks = acceptance(criteria, TRAINING, [], [_claim("a", False)])
    assert [c["criterion"] for c in checks] == ["test accuracy >= 0.5"] and passed(checks)


def test_sampler_z_score_is_the_deviation_in_standard_errors():
    assert sampler_z_score({"q2_mean": 1.3, "q2_exact": 1.0, "q2_sem": 0.1}) == pytest.approx(3.0, rel=1e-12)


def test_q5_is_judged_on_the_probe():
    other = Verdict("Q1", "q", "supported", "t", {}, "r")
    old_q5 = Verdict("Q5", "q", "inconclusive", "t", {}, "r")
    out = with_probe_verdict([other, old_q5], {"neurons_bimodal": 9, "neurons_tested": 10}, "outputs")
    assert out[0] is other and out[1].id == "Q5" and out[1].verdict == "supported"
    assert out[1].numbers == {"tested": 10, "bimodal": 9, "what": "outputs"}


@pytest.mark.parametrize("row, expected", [
    ({"gaussian_delta_aic": 12.0, "gof_p": 0.4}, "theory preferred"),
    ({"gaussian_delta_aic": -3.0, "gof_p": 0.4}, "alternative preferred"),
    ({"gaussian_delta_aic": 0.0, "gof_p": 0.4}, "alternative preferred"),
    ({"gaussian_delta_aic": 12.0, "gof_p": 0.001}, "theory by AIC, poor fit"),
    ({"gaussian_delta_aic": 12.0}, "theory by AIC, poor fit"),
    ({"gaussian_delta_aic": float("nan"), "gof_p": 0.4}, "–"),
    ({"gof_p": 0.4}, "–"),
])
def test_preference_never_prefers_a_theory_that_misfits(row, expected):
    assert preference(row, "gaussian") == expected


def test_claims_pass_only_when_every_claim_is_as_expected():
    from types import SimpleNamespace

    from statmech_nn.compare.acceptance import claims_as_expected

    good, bad = SimpleNamespace(as_expected=True), SimpleNamespace(as_expected=False)
    assert claims_as_expected([good, good]) and claims_as_expected([])
    assert not claims_as_expected([good, bad])
