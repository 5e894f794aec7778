"""The claims of 001 in validation/closed_forms/meanfield.toml: every one comes out as expected."""

import shutil

import pytest

from statmech_nn.compare.claims import FAILS, default_claims_dir, load_claims, run_claims


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    directory = tmp_path_factory.mktemp("claims")
    shutil.copy(default_claims_dir() / "meanfield.toml", directory)
    return run_claims(directory)


@pytest.mark.slow
def test_every_meanfield_claim_is_as_expected(outcomes):
    unexpected = [(o.claim.id, o.status, o.deviation, o.detail) for o in outcomes if not o.as_expected]
    assert not unexpected


@pytest.mark.slow
def test_the_slides_typos_are_refuted_with_what_holds_instead(outcomes):
    refuted = {o.claim.id: o.detail for o in outcomes if o.claim.expected == FAILS}
    assert set(refuted) == {"cw-mean-field-equation-as-printed", "cw-magnetization-expansion-as-printed",
                            "cw-correlation-prefactor-as-printed", "hs-magnetization-derivative-as-printed",
                            "slides-bias-row-matrix"}
    assert "K = J/T" in refuted["cw-magnetization-expansion-as-printed"]
    assert "m = -dF/dh holds" in refuted["hs-magnetization-derivative-as-printed"]
    assert "what holds" in refuted["cw-mean-field-equation-as-printed"]


def test_every_claim_cites_001_and_has_a_loadable_check():
    claims = [c for c in load_claims() if c.file == "meanfield.toml"]
    assert len(claims) == 18 and all(c.source == "001" and c.equation.startswith("slide") for c in claims)


def test_exact_identities_of_the_checks_at_toy_size():
    """The fast tier's unit test of the claim checks (the whole file of claims runs in the slow tier): the
    Hamiltonian rewrite over all 2^6 states is exact, the Hubbard-Stratonovich identity holds to 1e-14 relative,
    and the printed saddle-point Hessian matches finite differences (step-size limited: 1e-6)."""
    from statmech_nn.meanfield import meanfield_claims as checks

    deviation, detail = checks.hamiltonian_rewrite(6, 1.0, 0.1)
    assert deviation == 0.0 and "J/2 = 0.5" in detail
    assert checks.hubbard_stratonovich_identity([0.5, 1.0, 2.0])[0] < 1e-14
    assert checks.saddle_hessian(6, 1.0, 0.1, 0)[0] < 1e-6
