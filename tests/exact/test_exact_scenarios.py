"""The scenario table: which desiderata the exact minimizers keep when each assumption fails."""

from identlam.exact.scenarios import SCENARIOS, format_table, scenario_table

# (scenario, entropy) -> (n_minimizers, identified, broken in every minimizer, broken in some)
EXPECTED = {
    ("ring, shared FDM, M = K", "conditional"): (1, "all", (), ()),
    ("ring, shared FDM, M = K", "policy"): (1, "all", (), ()),
    ("ring, shared FDM, M = K", "marginal"): (1, "all", (), ()),
    ("torus, continuous IDM, M > K", "conditional"): (1, "all", (), ()),
    ("torus, continuous IDM, M > K", "policy"): (1, "all", (), ()),
    ("torus, continuous IDM, M > K", "marginal"): (1, "all", (), ()),
    ("ring, shared FDM, spare code", "conditional"): (63, "some", (), ("D2",)),
    ("ring, shared FDM, spare code", "policy"): (63, "some", (), ("D2",)),
    ("ring, shared FDM, spare code", "marginal"): (1, "all", (), ()),
    ("ring, discontinuous IDM", "conditional"): (32, "some", (), ("D2", "D3")),
    ("ring, discontinuous IDM", "policy"): (32, "some", (), ("D2", "D3")),
    ("ring, discontinuous IDM", "marginal"): (32, "some", (), ("D2", "D3")),
    ("two-region ring, discontinuous IDM", "conditional"): (128, "some", (), ("D2", "D3")),
    ("two-region ring, discontinuous IDM", "policy"): (128, "some", (), ("D2", "D3")),
    ("two-region ring, discontinuous IDM", "marginal"): (1, "none", ("D2", "D3"), ("D2", "D3")),
    ("duplicate action", "conditional"): (1, "none", ("D3",), ("D3",)),
    ("duplicate action", "policy"): (1, "none", ("D3",), ("D3",)),
    ("duplicate action", "marginal"): (1, "none", ("D3",), ("D3",)),
    ("rotated islands, continuous IDM", "conditional"): (2, "some", (), ("D2", "D3")),
    ("rotated islands, continuous IDM", "policy"): (2, "some", (), ("D2", "D3")),
    ("rotated islands, continuous IDM", "marginal"): (2, "some", (), ("D2", "D3")),
    ("rotated islands, shared FDM", "conditional"): (1, "none", ("D2", "D3"), ("D2", "D3")),
    ("rotated islands, shared FDM", "policy"): (1, "none", ("D2", "D3"), ("D2", "D3")),
    ("rotated islands, shared FDM", "marginal"): (1, "none", ("D2", "D3"), ("D2", "D3")),
    ("split policy, continuous IDM", "conditional"): (2, "some", (), ("D3",)),
    ("split policy, continuous IDM", "policy"): (2, "some", (), ("D3",)),
    ("split policy, continuous IDM", "marginal"): (1, "none", ("D3",), ("D3",)),
}


def test_scenario_table_matches_the_theorem_and_its_failure_modes():
    rows = scenario_table(lam=0.05)
    assert len(rows) == 3 * len(SCENARIOS) == len(EXPECTED)
    got = {(r["scenario"], r["entropy"]): (r["n_minimizers"], r["identified"], r["broken_in_every"],
                                           r["broken_in_some"]) for r in rows}
    assert got == EXPECTED
    text = format_table(rows)
    assert len(text.splitlines()) == len(rows) + 2 and "split policy" in text
