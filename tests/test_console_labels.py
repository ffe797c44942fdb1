"""Every code the console may show has words (api/console/labels.py): the closed vocabularies of
the event model and of the policy in force."""

from __future__ import annotations

from lfr_ledger.api.console.labels import labels, plain
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import Decision, OutcomeType


def test_each_vocabulary_of_the_policy_in_force_has_words_that_are_not_its_codes() -> None:
    policy = Policy.load()
    table = labels(policy)
    for code in (
        *policy.categories,
        *policy.location_types,
        *policy.complaint_channels,
        *policy.false_alerts.codes(),
        *(v.value for v in OutcomeType),
        *(v.value for v in Decision),
    ):
        assert code in table, code
        assert "_" not in table[code], (code, table[code])
    assert table["metropolitan"] == "Metropolitan Police Service"
    assert table["no_match"] == "No match"


def test_a_code_with_no_words_of_its_own_is_read_aloud() -> None:
    assert plain("suspected_offender") == "Suspected offender"
    assert plain("45_54") == "45–54"
    assert plain("system.threshold") == "System: threshold"
