"""app/decisions/render.py: Liquid bodies for chosen messages, and the linter's token report."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.decisions.render import RenderContext, Rendered, TemplateSpec, check, clear_cache, render
from app.journeys.catalog import TemplateCatalog, default_catalog
from app.journeys.lint import lint
from graph_models.journey import JourneyDefinition

CONTEXT = RenderContext(
    person={"first_name": "Ada", "plan": "trial", "tags": ["a", "b"]},
    event={"product_name": "Red Shoes", "cart_id": "c-1", "products": [{"name": "shoe"}, {"name": "sock"}]},
    journey={"id": "abandoned-cart", "version": 3, "step": "email_reminder", "variant": "A"},
    offer={"id": "upgrade-banner", "placement": "home_banner"},
    ids={"decision_id": "d-1", "action_id": "a-1"},
)


def spec(text: str = "", *, channel: str = "email", id_: str = "t", **fields: Any) -> TemplateSpec:
    return TemplateSpec(id_, channel, text=text, **fields)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


# --- tokens and defaults ------------------------------------------------------------------------------------


def test_tokens_from_each_root() -> None:
    template = spec(
        "{{ person.first_name }}|{{ event.product_name }}|{{ journey.id }} v{{ journey.version }}"
        " {{ journey.step }} {{ journey.variant }}|{{ offer.id }}@{{ offer.placement }}|"
        "{{ ids.decision_id }}/{{ ids.action_id }}",
        subject="Hi {{ person.first_name }}",
    )
    out = render(template, CONTEXT)
    assert out.text == "Ada|Red Shoes|abandoned-cart v3 email_reminder A|upgrade-banner@home_banner|d-1/a-1"
    assert out.subject == "Hi Ada"
    assert out.html is None
    assert out.errors == [] and out.defaulted == []


def test_loops_filters_and_sizes() -> None:
    template = spec(
        "{% for p in event.products %}{{ forloop.index }}:{{ p.name | upcase }} {% endfor %}"
        "{{ event.products.size }} {{ person.tags | join: ',' }}{% assign n = person.plan %} {{ n }}"
    )
    out = render(template, CONTEXT)
    assert out.text == "1:SHOE 2:SOCK 2 a,b trial"
    assert out.defaulted == []
    assert check(template).tokens == ("event.products", "event.products.size", "person.plan", "person.tags")


def test_missing_tokens_use_defaults_then_empty() -> None:
    template = spec(
        "Hi {{ person.first_name }}, {{ event.product_name }}{{ person.nickname }}.",
        subject="{{ person.first_name }}",
        html="<p>{{ person.first_name }}</p>",
        defaults={"person.first_name": "there", "event.product_name": "your items"},
    )
    out = render(template, RenderContext())
    assert out.text == "Hi there, your items."
    assert out.subject == "there"
    assert out.html == "<p>there</p>"
    assert out.errors == []
    assert sorted(out.defaulted) == ["event.product_name", "person.first_name", "person.nickname"]


def test_null_and_empty_values_count_as_missing() -> None:
    template = spec("Hi {{ person.first_name }}", defaults={"person.first_name": "there"})
    assert render(template, RenderContext(person={"first_name": None})).text == "Hi there"
    assert render(template, RenderContext(person={"first_name": ""})).text == "Hi there"
    assert render(template, RenderContext(person={"first_name": 0})).text == "Hi 0"


def test_nested_default_does_not_mutate_the_context() -> None:
    person: dict[str, Any] = {"address": {"street": "1 Main St"}}
    template = spec("{{ person.address.city }}", defaults={"person.address.city": "your city"})
    assert render(template, RenderContext(person=person)).text == "your city"
    assert person == {"address": {"street": "1 Main St"}}


def test_liquid_default_filter_still_works() -> None:
    out = render(spec("{{ person.nickname | default: 'friend' }}"), CONTEXT)
    assert out.text == "friend"
    assert out.defaulted == ["person.nickname"]


# --- errors are recorded, never raised -----------------------------------------------------------------------


def test_runtime_error_is_recorded() -> None:
    template = spec("Total: {{ 10 | divided_by: event.count }}!", subject="Fine {{ person.first_name }}")
    out = render(template, RenderContext(person={"first_name": "Ada"}, event={"count": 0}))
    assert out.subject == "Fine Ada"
    assert len(out.errors) == 1
    assert out.errors[0].startswith("t.text: ") and "divide" in out.errors[0]
    assert "line 1" in out.errors[0]
    assert out.text.startswith("Total: ")  # best effort


def test_unknown_filter_is_recorded() -> None:
    out = render(spec("{{ person.first_name | shout }}"), CONTEXT)
    assert len(out.errors) == 1 and "shout" in out.errors[0]


def test_syntax_error_is_recorded_for_that_part_only() -> None:
    template = spec("ok {{ person.first_name }}", subject="{% if %}broken{% endif %}")
    out = render(template, CONTEXT)
    assert out.text == "ok Ada"
    assert len(out.errors) == 1 and out.errors[0].startswith("t.subject: LiquidSyntaxError")
    assert check(template).errors == tuple(out.errors)


def test_a_value_that_fails_to_print_is_recorded() -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    out = render(spec("a{{ person.x }}b"), RenderContext(person={"x": Bad()}))
    assert out.errors and "boom" in out.errors[0]


# --- HTML escaping and the sandbox ---------------------------------------------------------------------------


def test_html_escapes_values_text_does_not() -> None:
    template = spec(
        "Hi {{ person.first_name }} {{ person.nickname }}",
        subject="Hi {{ person.first_name }}",
        html='<p class="x">Hi {{ person.first_name }} {{ person.nickname }}</p>',
        defaults={"person.nickname": "<you>"},
    )
    person = {"first_name": "<script>alert('x')</script> & co"}
    out = render(template, RenderContext(person=person))
    assert out.text == "Hi <script>alert('x')</script> & co <you>"
    assert out.subject == "Hi <script>alert('x')</script> & co"
    assert out.html == '<p class="x">Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co &lt;you&gt;</p>'


@pytest.mark.parametrize("tag", ["include", "render"])
def test_no_file_includes(tag: str, tmp_path: Path) -> None:
    (tmp_path / "secret.liquid").write_text("SECRET")
    template = spec(f"a{{% {tag} '{tmp_path / 'secret.liquid'}' %}}b")
    out = render(template, CONTEXT)
    assert "SECRET" not in out.text
    assert out.errors and tag in out.errors[0]
    assert check(template).errors


def test_no_python_attributes() -> None:
    out = render(
        spec("[{{ person.first_name.upper }}][{{ person.first_name.__class__ }}][{{ event.products.__len__ }}]"),
        CONTEXT,
    )
    assert out.text == "[][][]"


def test_loops_and_output_are_bounded() -> None:
    looping = render(spec("{% for i in (1..100000) %}x{% endfor %}"), CONTEXT)
    assert looping.errors and "limit" in looping.errors[0]
    big = render(spec("{{ person.blob }}"), RenderContext(person={"blob": "x" * 200_000}))
    assert big.errors and "limit" in big.errors[0]


# --- API details ---------------------------------------------------------------------------------------------


def test_to_json() -> None:
    out = render(spec("Hi {{ person.first_name }}", subject="S"), RenderContext())
    assert json.loads(out.to_json()) == {
        "subject": "S",
        "text": "Hi ",
        "html": None,
        "errors": [],
        "defaulted": ["person.first_name"],
    }
    assert Rendered("s", "t", None).to_json() == '{"subject":"s","text":"t","html":null,"errors":[],"defaulted":[]}'


def test_parsed_once_per_id_and_checksum() -> None:
    first = spec("A {{ person.first_name }}")
    assert check(first) is check(spec("A {{ person.first_name }}"))
    changed = spec("B {{ person.first_name }}")
    assert check(changed) is not check(first)
    assert render(changed, CONTEXT).text == "B Ada"


def test_shipped_templates_render_cleanly() -> None:
    catalog = default_catalog()
    for template in catalog:
        assert template.text, template.id
        assert (template.subject is not None) == (template.channel in ("email", "push")), template.id
        assert (template.html is not None) == (template.channel == "email"), template.id
        assert check(template).errors == (), template.id
        out = render(template, CONTEXT)
        assert out.errors == [], template.id
        bare = render(template, RenderContext())
        assert bare.errors == [], template.id
        assert set(bare.defaulted) >= set(template.defaults), template.id
    for new in ("upgrade_banner_in_app", "welcome_back_in_app", "cart_banner_in_app"):
        assert catalog.get(new) is not None and catalog.get(new).channel == "in_app"  # type: ignore[union-attr]
    assert {"first_name", "plan", "trial_ends_at", "preferred_channel"} <= catalog.known_traits
    welcome = render(catalog.get("welcome_email"), RenderContext())  # type: ignore[arg-type]
    assert welcome.subject == "Welcome aboard, there"


# --- catalog bodies ------------------------------------------------------------------------------------------


def test_catalog_reads_bodies_and_known_traits(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "known_traits: [first_name]\n"
        "templates:\n"
        "  - {id: a, channel: push, subject: 'Hi', text: 'Yo {{ person.first_name }}',"
        " defaults: {person.first_name: there, event.n: 3}}\n"
    )
    catalog = TemplateCatalog.from_yaml(path)
    assert catalog.known_traits == {"first_name"}
    defaults = {"person.first_name": "there", "event.n": "3"}
    expected = TemplateSpec("a", "push", subject="Hi", text="Yo {{ person.first_name }}", defaults=defaults)
    assert catalog.get("a") == expected


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("{id: a, channel: sms, html: '<p>'}", "no `html`"),
        ("{id: a, channel: in_app, subject: 'x'}", "no `subject`"),
        ("{id: a, channel: email, defaults: {first_name: x}}", "token paths"),
        ("{id: a, channel: email, defaults: {person.x: [1]}}", "plain values"),
        ("{id: a, channel: email, text: [1]}", "`text` must be a string"),
    ],
)
def test_catalog_rejects_bad_bodies(tmp_path: Path, entry: str, words: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(f"templates:\n  - {entry}\n")
    with pytest.raises(ValueError, match=words):
        TemplateCatalog.from_yaml(path)


# --- the linter's token report -------------------------------------------------------------------------------


def _journey(template: str = "hello", channel: str = "email", **action: Any) -> JourneyDefinition:
    data: dict[str, Any] = {
        "id": "j",
        "name": "J",
        "entry": {"event": "Signed Up"},
        "start": "send",
        "steps": [
            {"id": "send", "type": "action", "channel": channel, "template": template, "next": "done", **action},
            {"id": "done", "type": "end"},
        ],
    }
    return JourneyDefinition.model_validate(copy.deepcopy(data))


def _catalog(*templates: TemplateSpec) -> TemplateCatalog:
    return TemplateCatalog({t.id: t for t in templates}, known_traits=["first_name", "plan"])


def test_lint_reports_unfillable_tokens() -> None:
    hello = spec(
        "{{ person.first_name }} {{ person.shoe_size }} {{ person.nickname }} {{ event.anything }}"
        " {{ journey.id }} {{ journey.colour }} {{ offer.id }} {{ ids.decision_id }} {{ customer.name }}"
        "{% for p in event.products %}{{ p.name }}{% endfor %}{% assign x = 1 %}{{ x }}",
        id_="hello",
        defaults={"person.nickname": "friend"},
    )
    issues = lint(_journey(), _catalog(hello))
    assert all(i.severity == "warning" and i.step_id == "send" for i in issues)
    by_code = sorted((i.code, i.message) for i in issues)
    assert [code for code, _ in by_code] == ["unknown_token", "unknown_token", "unknown_trait"]
    text = " ".join(message for _, message in by_code)
    assert "'person.shoe_size'" in text and "known_traits" in text
    assert "'customer.name'" in text and "'journey.colour'" in text
    assert "nickname" not in text and "first_name" not in text and "event.anything" not in text
    assert "step 'send'" in text and "'hello'" in text


def test_lint_reports_template_syntax_errors() -> None:
    broken = spec("{% if person.plan %}unclosed", id_="hello")
    issues = lint(_journey(), _catalog(broken))
    assert [(i.code, i.severity, i.step_id) for i in issues] == [("template_syntax", "error", "send")]
    assert "'hello'" in issues[0].message and "LiquidSyntaxError" in issues[0].message


def test_lint_tokens_clean_for_known_traits_and_shipped_templates() -> None:
    hello = spec("Hi {{ person.first_name }} on {{ person.plan }}", id_="hello")
    assert lint(_journey(), _catalog(hello)) == []
    catalog = default_catalog()
    for template in catalog:
        journey = _journey(template.id, template.channel)
        assert lint(journey, catalog) == [], template.id
