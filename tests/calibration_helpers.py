"""The check every calibration test makes of a row (:class:`statmech_nn.compare.calibration` rows): the wrong word in
at most ``wrong_at_most`` sets and, where the scenario is powered, the right one in at least ``right_at_least``."""


def assert_within(row, wrong_at_most: int, right_at_least: int) -> None:
    wrong = row.counts["not supported" if row.truth == "supported" else "supported"]
    assert wrong <= wrong_at_most, (row.verdict, row.scenario, row.counts)
    if row.powered:
        assert row.counts[row.truth] >= right_at_least, (row.verdict, row.scenario, row.counts)
