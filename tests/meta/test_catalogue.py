"""The catalogue: its loader, its validation, and the spec pages it names."""

from importlib import resources

import pytest

from dlspec import budgets, catalogue, oracle

pytestmark = pytest.mark.meta


def test_every_concept_has_reference_page_model_and_budget_reason():
    cat = catalogue.load()
    spec = resources.files("dlspec.spec")
    for concept in cat.concepts.values():
        assert oracle.has_reference(concept.id), concept.id
        assert spec.joinpath(concept.page).is_file(), concept.page
        assert concept.error_model in budgets.MODELS, concept.error_model
        assert concept.budget.reason.strip(), concept.id
        for variant in concept.variants.values():
            assert variant.default in variant.values


def test_spec_index_lists_every_concept_as_the_catalogue_has_it():
    """One row per concept with its group, its variants (default first) and its page: the index
    repeats the catalogue for readers, so it must agree with it."""
    index = resources.files("dlspec.spec").joinpath("README.md").read_text()
    rows = {
        cells[0]: cells[1:]
        for line in index.splitlines()
        if line.startswith("| ")
        and len(cells := [c.strip() for c in line.strip("|").split(" | ")]) == 4
    }
    for concept in catalogue.load().concepts.values():
        assert concept.id in rows, f"{concept.id} is missing from spec/README.md"
        group, variants, page = rows[concept.id]
        assert group == concept.group, concept.id
        section = "#gradient" if concept.of else ""  # a gradient: its concept page's section
        assert f"({concept.page}{section})" in page, concept.id
        listed = (
            [part.split("`: ")[0].strip("`") for part in variants.split("; ")]
            if variants != "—"
            else []
        )
        assert listed == list(concept.variants), (concept.id, variants)
        for variant in concept.variants.values():
            values = variants.split(f"`{variant.name}`: ")[1].split(";")[0]
            assert [v.strip(" `") for v in values.split("\\|")] == list(variant.values), concept.id
            assert variant.values[0] == variant.default, (
                f"{concept.id}.{variant.name}: default first"
            )


def _one_concept(**fields):
    """A catalogue of one group and one concept ``x``, its fields overridden by ``fields``."""
    concept = {
        "group": "g",
        "title": "X",
        "arguments": ["x"],
        "error_model": "exact",
        "budget": {"float32": 0, "float64": 0, "reason": "r"},
        **fields,
    }
    return {
        "schema_version": 1,
        "groups": {"g": {"title": "G", "description": ""}},
        "concepts": {"x": concept},
    }


BAD_CATALOGUES = [
    ({"schema_version": 99, "groups": {}, "concepts": {}}, "schema_version"),
    (
        {"schema_version": 1, "groups": {}, "concepts": {"x": {"group": "nope"}}},
        "unknown group",
    ),
    (_one_concept(budget={"float32": 1, "reason": "r"}), "no budget for ['float64']"),
    (
        {
            "schema_version": 1,
            "groups": {},
            "concepts": {},
            "divergences": [{"concept": "nosuch"}],
        },
        "divergence for unknown concept 'nosuch'",
    ),
    *(
        (
            {
                "schema_version": 1,
                "groups": {"g": {"title": "G", "description": ""}},
                "concepts": {
                    "f": {
                        "group": "g",
                        "title": "F",
                        "arguments": ["x"],
                        "error_model": "exact",
                        "budget": {"float32": 0, "float64": 0, "reason": "r"},
                    },
                    "f_grad": {
                        "group": "g",
                        "title": "F'",
                        "arguments": ["x", "cotangent"],
                        "error_model": "exact",
                        "budget": {"float32": 0, "float64": 0, "reason": "r"},
                        **gradient,
                    },
                },
            },
            message,
        )
        for gradient, message in [
            ({"of": "nosuch", "wrt": "x"}, "gradient 'f_grad' differentiates unknown 'nosuch'"),
            ({"of": "f", "wrt": "y"}, "gradient 'f_grad' has wrt='y', not one of ['x']"),
            (
                {"of": "f", "wrt": "x", "inherits": ["v"]},
                "gradient 'f_grad' inherits unknown ['v']",
            ),
        ]
    ),
]


def _mapping_document(**changes):
    mapping = {
        "concept": "x",
        "frameworks": ["a", "b"],
        "title": "T",
        "verdict": "verified",
        "settings": "s",
        "inputs": "i",
        "spec": "concepts/x.md",
        "snippets": {"a": "out = 1", "b": "out = 1"},
        **changes,
    }
    return {**_one_concept(parameters={"k": 1.0}), "mappings": [mapping]}


BAD_CATALOGUES += [
    (_mapping_document(concept="nosuch"), "mapping 'T' of 'nosuch': unknown concept"),
    (_mapping_document(frameworks=["a"]), "frameworks=['a'] must name two backends"),
    (_mapping_document(snippets={"a": "out = 1"}), "snippets for ['a'], frameworks ['a', 'b']"),
    (_mapping_document(fixed={"nosuch": 1}), "fixed names no parameter of the concept: ['nosuch']"),
    (
        _mapping_document(verdict="maybe"),
        "mapping verdict='maybe', not one of ['verified', 'cannot']",
    ),
    (_mapping_document(driver="nosuch"), "driver 'nosuch' is not a porting_drivers table"),
    (
        {
            **_one_concept(),
            "divergences": [{"concept": "x", "backends": ["b"], "dtypes": [], "raises": "oops"}],
        },
        "raises='oops' must read '<ExceptionType>: <a part of its message>'",
    ),
]


@pytest.mark.parametrize(("document", "message"), BAD_CATALOGUES)
def test_catalogue_rejects_malformed_documents(document, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        catalogue.parse(document)


def test_every_divergence_has_a_snippet_that_assigns_out():
    """The report's runnable evidence: each write-up's snippet compiles and assigns ``out``
    (``tests/test_divergences.py`` runs it on its backends and checks that it shows)."""
    import ast

    for divergence in catalogue.load().divergences:
        assert divergence.snippet, f"{divergence.id}: no snippet"
        tree = ast.parse(divergence.snippet, filename=divergence.id)
        assigned = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in ast.walk(node.targets[0] if isinstance(node, ast.Assign) else node.target)
            if isinstance(target, ast.Name)
        }
        assert "out" in assigned, f"{divergence.id}: the snippet assigns no out"


def test_every_porting_mapping_runs_real_backends_on_named_inputs_and_points_at_its_spec():
    """Each mapping names two backends the suite knows, inputs ``tests/test_porting.py`` draws,
    a heading of its concept's spec page, and snippets that compile and assign ``out``."""
    import ast
    from importlib.metadata import entry_points

    from test_porting import INPUTS

    from dlspec.registry import ENTRY_POINT_GROUP
    from dlspec.report.blocks import anchor

    spec = resources.files("dlspec.spec")
    mappings = catalogue.load().mappings
    assert len(mappings) >= 15
    for mapping in mappings:
        known = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        assert set(mapping.frameworks) <= known, mapping.id
        assert mapping.inputs in INPUTS, mapping.id
        page, _, fragment = mapping.spec.partition("#")
        headings = [
            anchor(line.lstrip("#").strip())
            for line in spec.joinpath(page).read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        ]
        assert fragment in headings, f"{mapping.id}: no heading #{fragment} in spec/{page}"
        for framework, code in mapping.snippets.items():
            tree = ast.parse(code, filename=f"{mapping.id}-{framework}")
            names = {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            assert "out" in names, f"{mapping.id} ({framework}): the snippet assigns no out"


def test_low_precision_dtypes_come_from_the_group_and_budgets_from_float32():
    """A group's dtypes are its concepts' default; a gradient takes its forward's float dtypes
    (resize's uint8 gives resize_grad none); float16's and bfloat16's N is float32's."""
    cat = catalogue.load()
    assert cat.groups["activations"].dtypes == ("float32", "float64", "float16", "bfloat16")
    sigmoid, grad = cat.concept("sigmoid"), cat.concept("sigmoid_grad")
    assert sigmoid.dtypes == grad.dtypes == cat.groups["activations"].dtypes
    assert (
        sigmoid.budget.ulps["bfloat16"]
        == sigmoid.budget.ulps["float16"]
        == sigmoid.budget.ulps["float32"]
    )
    assert "uint8" in cat.concept("resize").dtypes
    assert cat.concept("resize_grad").dtypes == ("float32", "float64")
    assert cat.concept("adam").dtypes == cat.groups["optimizers"].dtypes
    assert cat.concept("step_lr").dtypes == ("float32", "float64")  # a group that names none


def test_a_divergences_example_for_one_dtype_overrides_the_shared_one():
    """optax's clip_by_global_norm overflows at a norm of 1.8e19 in float32 and bfloat16, at 256
    in float16, where 3e38 is no float16 at all: that dtype has its own minimal input."""
    (entry,) = [
        d
        for d in catalogue.load().divergences_of("jax", "clip_grad_norm", "float16")
        if d.name is None
    ]
    assert entry.examples["float16"]["gradients"] == [[256.0, 256.0]]
    assert entry.examples["float32"] == entry.examples["bfloat16"]
    assert entry.examples["float32"]["gradients"] == [[3e38, 3e38]]
