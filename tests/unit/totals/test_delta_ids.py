"""The ledger's inlined delta id is the content address `stable_id` defines: ids stored in
warehouses and changelogs before it must stay the ids of the same content."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from attrition.contracts.events import stable_id
from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.totals.totals_ledger import delta_id_head, delta_id_of

counts = st.integers(min_value=-(10**12), max_value=10**12)
days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@given(
    claimant=st.sampled_from(Claimant),
    subject=st.sampled_from(Subject),
    category=st.sampled_from(Category),
    kind=st.sampled_from(DocumentKind),
    as_of=days,
    previous_as_of=st.none() | days,
    previous_total=st.none() | counts,
    total=counts,
    reported=st.none() | counts,
)
def test_inlined_delta_id_is_the_stable_id_of_the_same_parts(
    claimant: Claimant,
    subject: Subject,
    category: Category,
    kind: DocumentKind,
    as_of: date,
    previous_as_of: date | None,
    previous_total: int | None,
    total: int,
    reported: int | None,
) -> None:
    head = delta_id_head(claimant.value, subject.value, category.value, kind.value)
    assert delta_id_of(head, as_of, previous_as_of, previous_total, total, reported) == stable_id(
        claimant.value,
        subject.value,
        category.value,
        kind.value,
        as_of,
        previous_as_of,
        previous_total,
        total,
        reported,
    )


def test_a_known_delta_keeps_its_id() -> None:
    # Computed by the generic `stable_id` before the ledger inlined it: a warehouse written
    # then must still recognise this delta.
    head = delta_id_head("ua_general_staff", "russia", "tanks", "report")
    found = delta_id_of(head, date(2023, 1, 28), date(2023, 1, 27), 3182, 3189, 7)
    assert found == "29147a22752455822d489dbe3ef583be"
