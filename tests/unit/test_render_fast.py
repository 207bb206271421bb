"""The renderer's plain-output path (literal text and `{{ root.key }}` outputs, no Liquid) gives exactly the
text Liquid gives, for every catalog template and for values that need escaping or are missing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import app.decisions.render as render_module
from app.decisions.render import RenderContext, Rendered, TemplateSpec, clear_cache, render
from app.journeys.catalog import default_catalog

PEOPLE: list[dict[str, Any]] = [
    {"first_name": "Ann", "company": "Acme", "plan": "pro"},
    {"first_name": "<b>O'Brien & \"Co\"</b>", "company": "A&B <Ltd>", "email": "x@example.com"},
    {"first_name": 7, "company": True, "plan": None},
    {"first_name": "", "company": ["a", "b"], "plan": 1.5},
    {},
]
EVENTS: list[dict[str, Any]] = [
    {"cart_id": "c 1/é?&x=<y>", "product_name": "Shoes & <Socks>", "price": 12},
    {"cart_id": 42, "product_name": None},
    {"cart_id": "", "product_name": {"nested": 1}},
    {},
]


def _contexts() -> Iterator[RenderContext]:
    for person in PEOPLE:
        for event in EVENTS:
            yield RenderContext(person=person, event=event,
                                journey={"id": "j<1>", "version": 2, "step": "s", "variant": None},
                                ids={"decision_id": "d&1", "action_id": "a'1", "person_id": "p1"},
                                offer={"id": "o1", "placement": "home"})


def _liquid_only(template: TemplateSpec, context: RenderContext, monkeypatch: pytest.MonkeyPatch) -> Rendered:
    with monkeypatch.context() as m:
        m.setattr(render_module, "_fast_render", lambda *_a: None)
        return render(template, context)


def test_plain_outputs_render_as_liquid_does(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    fast_parts = 0
    catalog = default_catalog()
    for template in (t for i in catalog.ids() if (t := catalog.get(i)) is not None):
        fast_parts += sum(p is not None for p in render_module._compile(template).fast.values())
        for context in _contexts():
            assert render(template, context) == _liquid_only(template, context, monkeypatch), template.id
    assert fast_parts > 0  # the catalog's templates do take the plain path


@pytest.mark.parametrize("source, fast", [
    ("Hi {{ person.first_name }}!", True),
    ("{{ event.cart_id | url_encode }}", True),
    ("{{person.first_name}}", True),
    ("{% if person.plan %}x{% endif %}", False),
    ("{{- person.first_name }}", False),
    ("{{ person.first_name | upcase }}", False),
    ("{{ event.items.size }}", False),
    ("{{ person }}", False),
    ("{{ event.items[0] }}", False),
])
def test_which_parts_take_the_plain_path(source: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (render_module._fast_part(source) is not None) is fast
    template = TemplateSpec(id="t", channel="email", subject=source, text=source, html=source)
    for context in _contexts():
        assert render(template, context) == _liquid_only(template, context, monkeypatch)


def test_missing_and_null_values_print_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "[{{ event.a | url_encode }}][{{ event.a }}][{{ event.n | url_encode }}][{{ event.n.m }}][{{ offer.x }}]"
    template = TemplateSpec(id="t", channel="email", subject=source, text=source, html=source)
    context = RenderContext(event={"n": None})
    assert render_module._fast_render(render_module._fast_part(source) or ((), ()), {"event": {"n": None}},
                                      False) == "[][][][][]"
    assert render(template, context) == _liquid_only(template, context, monkeypatch)
