"""app/intake/identity.py: identity resolution for one batch."""

from __future__ import annotations

from app.intake.identity import KnownIdentity, PersonMerge, identity_key, plan_identities
from tests.unit.helpers import counter, ident


def known(kind: str, value: str, person: str, user: str | None = None) -> KnownIdentity:
    return KnownIdentity(key=identity_key(kind, value), person_id=person, person_user_id=user)


def links_of(plan: object) -> dict[str, str]:
    return {key: pid for key, _kind, _value, pid in plan.links}  # type: ignore[attr-defined]


def test_identity_key() -> None:
    assert identity_key("userId", "u1") == "userId:u1"


def test_empty_batch() -> None:
    plan = plan_identities([], [], counter("p"))
    assert plan.event_person == [] and plan.links == [] and plan.merges == [] and plan.new_persons == {}


def test_anonymous_events_then_identify_are_one_person() -> None:
    events = [
        ident("page", anon="a1", ts=1),
        ident("track", anon="a1", ts=2),
        ident("identify", user="u1", anon="a1", ts=3),
        ident("track", user="u1", ts=4),
    ]
    plan = plan_identities(events, [], counter("p"))
    assert plan.event_person == ["p1"] * 4
    assert plan.new_persons == {"p1": "u1"}
    assert plan.user_ids == {}
    assert sorted(plan.links) == [
        ("anonymousId:a1", "anonymousId", "a1", "p1"),
        ("userId:u1", "userId", "u1", "p1"),
    ]
    assert plan.merges == []


def test_anonymous_then_identify_for_existing_anonymous_person_sets_user_id() -> None:
    plan = plan_identities(
        [ident("identify", user="u1", anon="a1")], [known("anonymousId", "a1", "P")], counter("p")
    )
    assert plan.event_person == ["P"]
    assert plan.new_persons == {}
    assert plan.user_ids == {"P": "u1"}
    assert plan.links == [("userId:u1", "userId", "u1", "P")]


def test_known_user_with_new_anonymous_id_links_it() -> None:
    plan = plan_identities(
        [ident("track", user="u1", anon="a9")], [known("userId", "u1", "P", "u1")], counter("p")
    )
    assert plan.event_person == ["P"]
    assert links_of(plan) == {"anonymousId:a9": "P"}
    assert plan.merges == [] and plan.new_persons == {}


def test_identify_merges_existing_anonymous_person_into_known_person() -> None:
    knowns = [known("anonymousId", "a1", "P_anon"), known("userId", "u1", "P_known", "u1")]
    ev = ident("identify", user="u1", anon="a1", ts=77, mid="m-42")
    plan = plan_identities([ev], knowns, counter("p"))
    assert plan.event_person == ["P_known"]
    assert len(plan.merges) == 1
    merge = plan.merges[0]
    assert (merge.loser, merge.survivor) == ("P_anon", "P_known")
    assert merge.message_id == "m-42" and merge.timestamp_ms == 77
    assert merge.reason.startswith("identify") and "anonymousId" in merge.reason
    assert plan.new_persons == {}
    assert plan.user_ids == {"P_known": "u1"}


def test_earlier_anonymous_events_follow_the_merge() -> None:
    knowns = [known("anonymousId", "a1", "P_anon"), known("userId", "u1", "P_known", "u1")]
    events = [
        ident("track", anon="a1", ts=1),
        ident("identify", user="u1", anon="a1", ts=2),
        ident("track", anon="a1", ts=3),
    ]
    plan = plan_identities(events, knowns, counter("p"))
    assert plan.event_person == ["P_known"] * 3
    assert [(m.loser, m.survivor) for m in plan.merges] == [("P_anon", "P_known")]


def test_two_known_persons_sharing_an_anonymous_id_are_not_merged() -> None:
    knowns = [
        known("anonymousId", "shared", "P1", "u1"),
        known("userId", "u1", "P1", "u1"),
        known("userId", "u2", "P2", "u2"),
    ]
    events = [
        ident("identify", user="u2", anon="shared", ts=1),
        ident("track", user="u1", anon="shared", ts=2),
    ]
    plan = plan_identities(events, knowns, counter("p"))
    assert plan.event_person == ["P2", "P1"]
    assert plan.merges == []
    assert plan.links == []  # the anonymous id keeps pointing to its first owner


def test_shared_device_in_one_batch_creates_two_persons() -> None:
    events = [
        ident("identify", user="u1", anon="dev", ts=1),
        ident("identify", user="u2", anon="dev", ts=2),
        ident("track", anon="dev", ts=3),
    ]
    plan = plan_identities(events, [], counter("p"))
    assert plan.event_person == ["p1", "p2", "p1"]
    assert plan.new_persons == {"p1": "u1", "p2": "u2"}
    assert plan.merges == []
    assert links_of(plan) == {"userId:u1": "p1", "anonymousId:dev": "p1", "userId:u2": "p2"}


def test_alias_merges_previous_known_person_into_user_person() -> None:
    knowns = [known("userId", "old", "P_old", "old"), known("userId", "new", "P_new", "new")]
    plan = plan_identities([ident("alias", user="new", prev="old", ts=5, mid="m-a")], knowns, counter("p"))
    assert plan.event_person == ["P_new"]
    assert plan.merges == [PersonMerge("P_old", "P_new", "m-a", 5, plan.merges[0].reason)]
    assert plan.merges[0].reason.startswith("alias")
    assert plan.new_persons == {}


def test_alias_merges_previous_anonymous_person() -> None:
    knowns = [known("anonymousId", "a1", "P_anon"), known("userId", "u1", "P_user", "u1")]
    plan = plan_identities([ident("alias", user="u1", prev="a1")], knowns, counter("p"))
    assert plan.event_person == ["P_user"]
    assert [(m.loser, m.survivor) for m in plan.merges] == [("P_anon", "P_user")]


def test_alias_with_unknown_previous_id_links_both_kinds_to_target() -> None:
    plan = plan_identities(
        [ident("alias", user="u1", prev="x")], [known("userId", "u1", "P", "u1")], counter("p")
    )
    assert plan.event_person == ["P"]
    assert sorted(plan.links) == [
        ("anonymousId:x", "anonymousId", "x", "P"),
        ("userId:x", "userId", "x", "P"),
    ]
    assert plan.merges == [] and plan.new_persons == {}


def test_alias_with_nothing_known_creates_the_person() -> None:
    plan = plan_identities([ident("alias", user="u1", prev="x")], [], counter("p"))
    assert plan.event_person == ["p1"]
    assert plan.new_persons == {"p1": "u1"}
    assert links_of(plan) == {"userId:u1": "p1", "userId:x": "p1", "anonymousId:x": "p1"}


def test_alias_to_unknown_user_adopts_the_previous_person() -> None:
    plan = plan_identities(
        [ident("alias", user="u1", prev="a1")], [known("anonymousId", "a1", "P")], counter("p")
    )
    assert plan.event_person == ["P"]
    assert links_of(plan) == {"userId:u1": "P"}
    assert plan.user_ids == {"P": "u1"}
    assert plan.merges == []


def test_alias_when_both_already_the_same_person_is_a_no_op() -> None:
    knowns = [known("anonymousId", "a1", "P", "u1"), known("userId", "u1", "P", "u1")]
    plan = plan_identities([ident("alias", user="u1", prev="a1")], knowns, counter("p"))
    assert plan.event_person == ["P"] and plan.merges == [] and plan.links == []


def test_new_person_unioned_with_existing_person_keeps_existing_id() -> None:
    # u1 is new in this batch and gets a fresh person; then identify ties it to a known anonymous person.
    events = [ident("track", user="u1", ts=1), ident("identify", user="u1", anon="a1", ts=2)]
    plan = plan_identities(events, [known("anonymousId", "a1", "P_old")], counter("p"))
    assert plan.event_person == ["P_old", "P_old"]
    assert plan.merges == []  # p1 never existed in the graph: nothing to merge
    assert plan.new_persons == {}
    assert plan.user_ids == {"P_old": "u1"}
    assert links_of(plan) == {"userId:u1": "P_old"}


def test_alias_between_new_and_existing_person_keeps_existing_id() -> None:
    events = [ident("track", user="fresh", ts=1), ident("alias", user="fresh", prev="old", ts=2)]
    plan = plan_identities(events, [known("userId", "old", "P_old", "old")], counter("p"))
    assert plan.event_person == ["P_old", "P_old"]
    assert plan.merges == []
    assert plan.new_persons == {}
    assert links_of(plan) == {"userId:fresh": "P_old"}


def test_two_new_persons_unioned_emit_no_merge() -> None:
    events = [
        ident("track", anon="a1", ts=1),
        ident("track", user="u1", ts=2),
        ident("identify", user="u1", anon="a1", ts=3),
    ]
    plan = plan_identities(events, [], counter("p"))
    assert len(set(plan.event_person)) == 1
    assert plan.merges == []
    (pid,) = plan.new_persons
    assert plan.new_persons[pid] == "u1"
    assert set(links_of(plan).values()) == {pid}


def test_chain_of_merges_resolves_to_final_survivor() -> None:
    knowns = [
        known("userId", "ua", "A", "ua"),
        known("userId", "ub", "B", "ub"),
        known("userId", "uc", "C", "uc"),
    ]
    events = [
        ident("track", user="ua", ts=1),
        ident("alias", user="ub", prev="ua", ts=2, mid="m-ab"),
        ident("track", user="ub", ts=3),
        ident("alias", user="uc", prev="ub", ts=4, mid="m-bc"),
        ident("track", user="ua", ts=5),
    ]
    plan = plan_identities(events, knowns, counter("p"))
    assert plan.event_person == ["C"] * 5
    assert [(m.loser, m.survivor, m.message_id) for m in plan.merges] == [
        ("A", "B", "m-ab"),
        ("B", "C", "m-bc"),
    ]
    assert plan.new_persons == {}
    assert plan.user_ids == {"C": "uc"}


def test_chain_through_anonymous_ids() -> None:
    knowns = [known("anonymousId", "a", "A"), known("anonymousId", "b", "B"), known("userId", "u", "C", "u")]
    events = [
        ident("alias", user="u", prev="b", ts=1),
        ident("alias", user="u", prev="a", ts=2),
        ident("track", anon="a", ts=3),
        ident("track", anon="b", ts=4),
    ]
    plan = plan_identities(events, knowns, counter("p"))
    assert plan.event_person == ["C"] * 4
    assert {(m.loser, m.survivor) for m in plan.merges} == {("A", "C"), ("B", "C")}


def test_new_id_is_called_only_when_a_person_is_created() -> None:
    calls: list[str] = []

    def new_id(seed: str) -> str:
        calls.append(seed)
        return f"p{len(calls)}"

    plan_identities(
        [ident("track", user="u1"), ident("track", user="u1", anon="a1")],
        [known("userId", "u1", "P", "u1")],
        new_id,
    )
    assert calls == []
    plan_identities([ident("track", anon="a1"), ident("track", anon="a1")], [], new_id)
    assert calls == ["person:anonymousId:a1"]  # seeded by the identity that created the person
