"""Arguments sent over the websocket must have the types their handler declares."""

from __future__ import annotations

from crm_app.event_guard import fits


def test_a_form_must_be_a_dict_of_what_a_browser_form_sends():
    assert fits({"name": "Ada", "done": True, "tags": ["a", "b"], "n": 3}, dict)
    assert not fits(None, dict)
    assert not fits("name=Ada", dict)
    assert not fits([1, 2], dict)
    assert not fits({"name": {"$ne": 1}}, dict)


def test_a_form_may_come_as_the_entries_rx_form_sends():
    assert fits({"__reflex_form_data__": [["email", "a@b.c"], ["remember", True]]}, dict)
    assert not fits({"__reflex_form_data__": [["email", {"$ne": 1}]]}, dict)
    assert not fits({"__reflex_form_data__": "email=a"}, dict)
    assert not fits({"__reflex_form_data__": [["email"]]}, dict)


def test_text_ids_and_flags_must_have_their_own_types():
    assert fits("12", str) and fits(12, str)  # a page may pass a row's numeric id
    assert not fits({"id": 1}, str) and not fits(None, str) and not fits(True, str)
    assert fits(12, int) and fits("12", int)
    assert not fits("abc", int) and not fits(True, int) and not fits([1], int)
    assert fits(False, bool) and not fits("yes", bool) and not fits(1, bool)


def test_a_union_accepts_any_of_its_members():
    assert fits("this_month", str | list[str])
    assert fits(["1", "2"], str | list[str])
    assert not fits([{"a": 1}], str | list[str])
    assert not fits(None, str | list[str])
