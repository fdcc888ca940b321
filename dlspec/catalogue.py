"""The machine-readable catalogue (``spec/catalogue/``), loaded once and typed.

``groups.toml`` holds the groups, the floating-point environment and the finite-difference
check; ``<group>.toml`` one block per concept of that group: the concept, its variants and budget,
its gradient concept and their divergences; then the group's porting mappings between frameworks.
:func:`merge` makes one document of the files.

Every fact the tests and reports need about a concept lives there and only there: its group,
arguments, parameters and defaults, dtypes, variants, error model and budget with its reason.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from dlspec.divergences import Signature
from dlspec.numerics import is_floating

SCHEMA_VERSION = 1
COMPARISONS = ("values", "row_sizes")
VERDICTS = ("verified", "cannot")
"""What a porting mapping claims: its two snippets agree on every input (``verified``), or
no setting makes them agree and Hypothesis finds an input where they part (``cannot``)."""


def _choice(concept_id: str, field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(
            f"catalogue: concept {concept_id!r} has {field}={value!r}, not one of {list(allowed)}"
        )
    return value


@dataclass(frozen=True)
class Variant:
    """A named convention on which frameworks differ, e.g. ``binary_cross_entropy.guard``."""

    name: str
    values: tuple[str, ...]
    default: str
    description: str


@dataclass(frozen=True)
class Budget:
    """Allowed error per dtype, in ulps of the result, on top of the error model's derived term."""

    ulps: Mapping[str, float]
    reason: str


@dataclass(frozen=True)
class Concept:
    id: str
    group: str
    title: str
    page: str
    arguments: tuple[str, ...]
    parameters: Mapping[str, Any]
    dtypes: tuple[str, ...]
    error_model: str
    budget: Budget
    variants: Mapping[str, Variant]
    result: str = "input"
    """The result's dtype: ``"input"`` (that of the floating-point inputs), ``"image"`` (that of
    the ``image`` argument: an integer image gives an integer image, rounded) or a NumPy dtype
    name (``"int64"`` for index sets and epoch numbers)."""
    compare: str = "values"
    """What the oracle compares: ``"values"``, or ``"row_sizes"`` (the number of non-negative
    entries per row of an index set whose contents are random by design)."""
    of: str | None = None
    """For a gradient concept (``"<concept>_grad"``): the concept it differentiates."""
    wrt: str | None = None
    """For a gradient concept: the argument it differentiates with respect to."""
    inherited: frozenset[str] = frozenset()
    """Variants of ``of`` that change the derivative too; declared once, under ``of``."""

    def variant_key(self, variant: str) -> str:
        """The key an adapter uses to declare its convention: ``"<concept>.<variant>"`` (an
        inherited variant is declared under the concept it belongs to)."""
        return f"{self.of if variant in self.inherited else self.id}.{variant}"

    def own_variants(self) -> list[Variant]:
        """The variants declared under this concept's id (not inherited ones)."""
        return [v for name, v in self.variants.items() if name not in self.inherited]


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    description: str
    dtypes: tuple[str, ...] = ("float32", "float64")
    """The dtypes of its concepts where a concept lists none (a gradient: its forward's)."""


@dataclass(frozen=True, eq=False)
class Divergence:
    """A backend's known departure from the spec, written up on a spec page, with its signature
    (:mod:`dlspec.divergences`): an oracle check excuses only the elements in the entry's
    region with the entry's values, a property only an input in the region, and every run
    tries the entry's minimal input (``example``), which must show it."""

    backends: tuple[str, ...]
    concept: str
    dtypes: tuple[str, ...]
    signature: Signature
    examples: Mapping[str, Mapping[str, Any]]
    """Per dtype, the minimal input that shows it: the concept's arguments (lists) and
    parameters."""
    summary: str
    spec: str
    versions: str
    snippet: str | None = None
    """Python in the framework's own API that shows it: run with the example's arguments and
    parameters bound as names (lists and scalars) and ``dtype`` (its name), it assigns ``out``."""
    computes_in: str | None = None
    """The narrower dtype the backend computes the entry's dtypes in (``"float32"``): its
    signature defaults to :data:`IN_FLOAT32`, and a float64 check that needs the backend's
    float64 accuracy (finite differences of its forward function) does not apply."""
    returns: str | None = None
    """The dtype the backend returns for the entry's dtypes, where it is not theirs: such a
    result is read in the dtype asked for (``dlspec.checks.run_backend``), and its values are
    held to the spec as any other."""
    name: str | None = None
    """A short name telling apart two divergences of one backend and concept, in the id."""
    raises: str | None = None
    """What the backend raises instead of a result, ``"<ExceptionType>: <fragment>"`` (a part of
    its message): such a call is recorded as this divergence where ``where`` holds (read on the
    arguments and parameters alone; ``gives`` is then ``True``)."""

    def raised_by(self, error: BaseException) -> bool:
        """Whether ``error`` is what this divergence raises."""
        if self.raises is None:
            return False
        kind, _, fragment = self.raises.partition(": ")
        return type(error).__name__ == kind and fragment in str(error)

    @property
    def id(self) -> str:
        return f"{'+'.join(self.backends)}-{self.concept}" + (f"-{self.name}" if self.name else "")

    def covers(self, backend: str, concept: str, dtype: str | None) -> bool:
        return (
            backend in self.backends
            and concept == self.concept
            and (dtype is None or dtype in self.dtypes)
        )


@dataclass(frozen=True, eq=False)
class PortingMapping:
    """One entry of the porting guide: the settings under which two frameworks compute the same
    concept (``verified``), or the difference no setting removes (``cannot``). Its snippets, in
    each framework's own API, are run on the same drawn inputs and compared within the sum of
    the two results' allowances (``tests/test_porting.py``)."""

    concept: str
    frameworks: tuple[str, str]
    """The two backends whose frameworks the snippets call, as ``--backend`` names them."""
    title: str
    verdict: str
    settings: str
    """In a sentence: what to set in the one to get the other (or why nothing does)."""
    inputs: str
    """The name of the drawn inputs (``tests/test_porting.py``'s ``INPUTS``): the concept's
    arguments and parameters, in the spec's names."""
    fixed: Mapping[str, Any]
    """Parameters held at these values over every draw (the spec's names)."""
    dtypes: tuple[str, ...]
    """The dtypes it is checked in (the concept's float ones, unless a written-up divergence of
    one side parts them in another: the settings say so)."""
    snippets: Mapping[str, str]
    """Per framework backend, Python in its own API run with the inputs bound as names (arrays
    as NumPy arrays of the dtype under test, ``dtype`` its name); it assigns ``out``."""
    spec: str
    driver: str | None = None
    """The ``[porting_drivers]`` table the snippets were made from, if any."""
    makes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """With a driver: per framework, the expression put in for ``{make}`` (the settings)."""

    @property
    def id(self) -> str:
        return f"{self.concept}-{re.sub(r'[^a-z0-9_]+', '-', self.title.lower()).strip('-')}"


@dataclass(frozen=True)
class Catalogue:
    schema_version: int
    groups: Mapping[str, Group]
    concepts: Mapping[str, Concept]
    divergences: tuple[Divergence, ...] = ()
    """Per framework, the concepts its adapter composes from the framework's operations."""
    floating_point: Mapping[str, Variant] = dataclasses.field(default_factory=dict)
    """Variants of the floating-point environment that hold for every concept (``subnormals``);
    an adapter declares them under their bare name."""
    finite_differences: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """The gradients' finite-difference property: its ``step`` and relative ``tolerance``."""
    mappings: tuple[PortingMapping, ...] = ()
    """The porting guide's entries (``[[mappings]]``)."""
    porting_drivers: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    """Per driver, per framework: the code a mapping's ``{make}`` expression is put in."""

    def divergences_of(self, backend: str, concept: str, dtype: str | None) -> list[Divergence]:
        """The written-up divergences of ``concept`` on ``backend`` in ``dtype``."""
        return [d for d in self.divergences if d.covers(backend, concept, dtype)]

    def concept(self, concept_id: str) -> Concept:
        try:
            return self.concepts[concept_id]
        except KeyError:
            raise KeyError(
                f"concept {concept_id!r} is not in the catalogue; known: {sorted(self.concepts)}"
            ) from None

    def gradients(self) -> list[Concept]:
        """The gradient concepts, each naming the concept it differentiates (``of``)."""
        return [c for c in self.concepts.values() if c.of is not None]


IN_FLOAT32 = {"where": "True", "gives": "err <= allowed_float32 + abs(ref_float32 - ref)"}
"""The signature of a result computed in float32 (``computes_in = "float32"``) where ``where``
and ``gives`` are not given: everywhere, no less accurate than a conforming float32 backend on
the inputs rounded to float32 (:data:`dlspec.divergences.NAMES`)."""


def _signature(entry: Mapping[str, Any]) -> Signature:
    where = f"divergence of {entry['concept']} on {entry['backends']}"
    computes_in = entry.get("computes_in")
    if computes_in is not None and computes_in != "float32":
        raise ValueError(
            f"catalogue: {where}: computes_in must be 'float32' (the dtype its names describe), "
            f"not {computes_in!r}"
        )
    if computes_in is not None:
        entry = {**IN_FLOAT32, **entry}
    if "raises" in entry:
        kind, _, fragment = str(entry["raises"]).partition(": ")
        if not (kind.isidentifier() and fragment):
            raise ValueError(
                f"catalogue: {where}: raises={entry['raises']!r} must read "
                "'<ExceptionType>: <a part of its message>'"
            )
        entry = {"where": "True", "gives": "True", **entry}
    for key in ("where", "gives"):
        if key not in entry:
            raise ValueError(f"catalogue: {where} has no {key!r} (spec/README.md#divergences)")
    try:
        return Signature(
            entry["where"],
            entry["gives"],
            entry.get("shows", "beyond"),
            tuple(entry.get("defines", {}).items()),
        )
    except ValueError as error:
        raise ValueError(f"catalogue: {where}: {error}") from None


def _snippet(entry: Mapping[str, Any], preludes: Mapping[str, str]) -> str | None:
    """The entry's snippet after the ``[snippet_preludes]`` it names (``snippet_preludes``, in
    order): the set-up that several snippets share, printed with each."""
    if "snippet" not in entry:
        return None
    names = entry.get("snippet_preludes", [])
    unknown = [n for n in names if n not in preludes]
    if unknown:
        raise ValueError(
            f"catalogue: the divergence of {entry['concept']} on {entry['backends']} names "
            f"snippet_preludes {unknown}; known: {sorted(preludes)}"
        )
    return "\n\n".join([*(preludes[n].strip("\n") for n in names), entry["snippet"].strip("\n")])


def _examples(entry: Mapping[str, Any], concept: Concept) -> dict[str, dict[str, Any]]:
    """Per dtype, the minimal input: ``examples.<dtype>``, else ``example``."""
    where = f"divergence of {concept.id} on {entry['backends']}"
    shared = entry.get("example")
    examples = {d: shared for d in entry["dtypes"]} if shared else {}
    examples.update(entry.get("examples", {}))
    for dtype in entry["dtypes"]:
        example = examples.get(dtype)
        if example is None:
            raise ValueError(f"catalogue: {where} has no example for {dtype}")
        missing = [a for a in concept.arguments if a not in example]
        if missing:
            raise ValueError(f"catalogue: the {dtype} example of the {where} lacks {missing}")
    return {d: dict(examples[d]) for d in entry["dtypes"]}


def _variants(entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Variant]:
    return {
        name: Variant(
            name=name, values=tuple(v["values"]), default=v["default"], description=v["description"]
        )
        for name, v in entries.items()
    }


PORTED_DTYPES = ("float32", "float64")
"""The dtypes a porting mapping is checked in unless it lists its own."""

LOW_PRECISION = ("float16", "bfloat16")
"""The formats whose budget, unless a concept states one, is float32's: the same operations,
each rounded in the format's ulps (spec/README.md, "Low precision")."""


def _low_precision_budget(stated: Mapping[str, Any], dtypes: tuple[str, ...]) -> dict[str, Any]:
    derived = {d: stated["float32"] for d in LOW_PRECISION if d in dtypes and "float32" in stated}
    return {**derived, **stated}


def _concept(
    concept_id: str,
    entry: Mapping[str, Any],
    groups: Mapping[str, Group],
    forward: Mapping[str, Concept] | None = None,
) -> Concept:
    if entry["group"] not in groups:
        raise ValueError(f"catalogue: concept {concept_id!r} has unknown group {entry['group']!r}")
    of, inherited = entry.get("of"), tuple(entry.get("inherits", ()))
    default = groups[entry["group"]].dtypes
    if of is not None and forward is not None and of in forward:
        default = tuple(d for d in forward[of].dtypes if is_floating(d))  # no integer gradient
    dtypes = tuple(entry.get("dtypes", default))
    budget = _low_precision_budget(entry["budget"], dtypes)
    missing = [d for d in dtypes if d not in budget]
    if missing:
        raise ValueError(f"catalogue: concept {concept_id!r} has no budget for {missing}")
    variants = _variants(entry.get("variants", {}))
    page = f"concepts/{concept_id}.md"
    if of is not None:
        if forward is None or of not in forward:
            raise ValueError(f"catalogue: gradient {concept_id!r} differentiates unknown {of!r}")
        if entry.get("wrt") not in forward[of].arguments:
            raise ValueError(
                f"catalogue: gradient {concept_id!r} has wrt={entry.get('wrt')!r}, "
                f"not one of {list(forward[of].arguments)}"
            )
        unknown = [v for v in inherited if v not in forward[of].variants]
        if unknown:
            raise ValueError(f"catalogue: gradient {concept_id!r} inherits unknown {unknown}")
        variants = {**{v: forward[of].variants[v] for v in inherited}, **variants}
        page = forward[of].page
    return Concept(
        id=concept_id,
        group=entry["group"],
        title=entry["title"],
        page=entry.get("page", page),
        arguments=tuple(entry["arguments"]),
        parameters=dict(entry.get("parameters", {})),
        dtypes=dtypes,
        error_model=entry["error_model"],
        budget=Budget(ulps={d: float(budget[d]) for d in dtypes}, reason=budget["reason"]),
        variants=variants,
        result=entry.get("result", "input"),
        compare=_choice(concept_id, "compare", entry.get("compare", "values"), COMPARISONS),
        of=of,
        wrt=entry.get("wrt"),
        inherited=frozenset(inherited),
    )


def parse(document: Mapping[str, Any]) -> Catalogue:
    """Validate and type a catalogue document (the parsed TOML)."""
    if document.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"catalogue: schema_version={document.get('schema_version')!r}, expected {SCHEMA_VERSION}"
        )
    groups = {
        gid: Group(
            id=gid,
            title=g["title"],
            description=g["description"],
            dtypes=tuple(g.get("dtypes", ("float32", "float64"))),
        )
        for gid, g in document["groups"].items()
    }
    forward = {
        cid: _concept(cid, entry, groups)
        for cid, entry in document["concepts"].items()
        if "of" not in entry
    }
    concepts = {
        cid: forward[cid] if cid in forward else _concept(cid, entry, groups, forward)
        for cid, entry in document["concepts"].items()
    }
    divergences = []
    shared = _shared_divergences(document.get("shared_divergences", []))
    for entry in document.get("divergences", []):
        if entry["concept"] not in concepts:
            raise ValueError(f"catalogue: divergence for unknown concept {entry['concept']!r}")
        own = f"{'+'.join(entry['backends'])}-{entry['concept']}" + (
            f"-{entry['name']}" if "name" in entry else ""
        )
        divergences.append(
            Divergence(
                backends=tuple(entry["backends"]) + shared.pop(own, ()),
                concept=entry["concept"],
                dtypes=tuple(entry["dtypes"]),
                signature=_signature(entry),
                examples=_examples(entry, concepts[entry["concept"]]),
                summary=entry["summary"],
                spec=entry["spec"],
                versions=entry["versions"],
                snippet=_snippet(entry, document.get("snippet_preludes", {})),
                computes_in=entry.get("computes_in"),
                returns=entry.get("returns"),
                name=entry.get("name"),
                raises=entry.get("raises"),
            )
        )
    if shared:
        raise ValueError(f"catalogue: shared_divergences name unknown divergences {sorted(shared)}")
    floating_point = _variants(document.get("floating_point", {}))
    drivers = document.get("porting_drivers", {})
    mappings = tuple(_mapping(entry, concepts, drivers) for entry in document.get("mappings", []))
    ids = [m.id for m in mappings]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"catalogue: mappings share an id: {sorted(i for i in ids if ids.count(i) > 1)}"
        )
    return Catalogue(
        schema_version=SCHEMA_VERSION,
        groups=groups,
        concepts=concepts,
        divergences=tuple(divergences),
        floating_point=floating_point,
        finite_differences={
            k: float(v) for k, v in document.get("finite_differences", {}).items() if k != "reason"
        },
        mappings=mappings,
        porting_drivers={name: dict(code) for name, code in drivers.items()},
    )


def _snippets(
    entry: Mapping[str, Any], drivers: Mapping[str, Mapping[str, str]], where: str
) -> dict[str, str]:
    """Each framework's code: the entry's, or its driver's with the entry's ``{make}`` in it."""
    snippets = {k: v.strip() for k, v in entry["snippets"].items()}
    if "driver" not in entry:
        return {k: v + "\n" for k, v in snippets.items()}
    driver = drivers.get(entry["driver"])
    if driver is None or sorted(driver) != sorted(snippets):
        raise ValueError(
            f"catalogue: {where}: driver {entry['driver']!r} is not a porting_drivers table "
            f"for {sorted(snippets)}"
        )
    return {k: driver[k].strip().replace("{make}", v) + "\n" for k, v in snippets.items()}


def _mapping(
    entry: Mapping[str, Any],
    concepts: Mapping[str, Concept],
    drivers: Mapping[str, Mapping[str, str]],
) -> PortingMapping:
    where = f"mapping {entry.get('title')!r} of {entry.get('concept')!r}"
    if entry.get("concept") not in concepts:
        raise ValueError(f"catalogue: {where}: unknown concept")
    concept = concepts[entry["concept"]]
    frameworks = tuple(entry["frameworks"])
    if len(frameworks) != len(set(frameworks)) or len(frameworks) != 2:
        raise ValueError(
            f"catalogue: {where}: frameworks={list(frameworks)} must name two backends"
        )
    if sorted(entry["snippets"]) != sorted(frameworks):
        raise ValueError(
            f"catalogue: {where}: snippets for {sorted(entry['snippets'])}, frameworks {sorted(frameworks)}"
        )
    unknown = sorted(set(entry.get("fixed", {})) - set(concept.parameters) - set(concept.variants))
    if unknown:
        raise ValueError(f"catalogue: {where}: fixed names no parameter of the concept: {unknown}")
    return PortingMapping(
        concept=concept.id,
        frameworks=(frameworks[0], frameworks[1]),
        title=entry["title"],
        verdict=_choice(concept.id, "mapping verdict", entry["verdict"], VERDICTS),
        settings=" ".join(entry["settings"].split()),
        inputs=entry["inputs"],
        fixed=dict(entry.get("fixed", {})),
        # a mapping ports float32 and float64, where its settings were verified; an integer
        # image's rounding is each framework's own, and float16's and bfloat16's are the
        # precision summary's business (a mapping may list them)
        dtypes=tuple(entry.get("dtypes", [d for d in concept.dtypes if d in PORTED_DTYPES])),
        snippets=_snippets(entry, drivers, where),
        spec=entry["spec"],
        driver=entry.get("driver"),
        makes={k: v.strip() for k, v in entry["snippets"].items()} if "driver" in entry else {},
    )


def _shared_divergences(entries: list[Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Divergence id -> the plug-in backends that share it (``[[shared_divergences]]``: a
    backend that calls the very kernel a written-up divergence is in, such as Keras on JAX
    calling ``jax.nn.elu``), each with the reason it is shared."""
    found: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        for key in ("divergence", "backends", "reason"):
            if not entry.get(key):
                raise ValueError(f"catalogue: a shared divergence has no {key!r}: {entry}")
        found[entry["divergence"]] = found.get(entry["divergence"], ()) + tuple(entry["backends"])
    return found


PLUGIN_GROUP = "dlspec.catalogue"
"""The entry-point group of a plug-in's catalogue additions: each entry point names a package
whose ``*.toml`` files hold ``[[divergences]]`` of its own backends, ``[[shared_divergences]]``
(its backends added to a written-up divergence) and ``[[mappings]]``. A plug-in adds no concept
and no variant: those are the spec's."""

PLUGIN_KEYS = frozenset({"divergences", "shared_divergences", "mappings", "snippet_preludes"})


def plugin_files() -> dict[str, dict[str, Any]]:
    """Each installed plug-in's catalogue files (``<entry point>/<file>`` -> parsed TOML)."""
    from importlib.metadata import entry_points

    files: dict[str, dict[str, Any]] = {}
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        folder = resources.files(entry.value)
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if not path.name.endswith(".toml"):
                continue
            part = tomllib.loads(path.read_text(encoding="utf-8"))
            extra = sorted(set(part) - PLUGIN_KEYS)
            if extra:
                raise ValueError(
                    f"catalogue: plug-in {entry.name}'s {path.name} has {extra}; a plug-in "
                    f"adds only {sorted(PLUGIN_KEYS)}"
                )
            files[f"{entry.name}/{path.name}"] = part
    return files


CATALOGUE = "catalogue"
"""The catalogue's folder in the package data of ``dlspec.spec``."""

COMMON = "groups.toml"
"""The file of the groups and of what holds for every concept."""


def _file_of(concept_id: str, concepts: Mapping[str, Any]) -> str:
    """The file a concept belongs in: its group's, a gradient concept its forward's."""
    entry = concepts[concept_id]
    forward = concepts.get(entry.get("of", concept_id), entry)
    return f"{forward.get('group')}.toml"


def merge(files: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One catalogue document from its files (name -> parsed TOML): tables merged, divergences
    concatenated in file order, concepts ordered by group (as the groups are listed) and, in a
    group, as written. A key defined twice, or a concept outside its group's file, is refused."""
    document: dict[str, Any] = {"divergences": []}
    where: dict[tuple[str, str], str] = {}
    for name, part in files.items():
        for key, value in part.items():
            if key in ("divergences", "shared_divergences", "mappings"):
                document.setdefault(key, [])
                document[key] += value
            elif isinstance(value, Mapping):
                for item in value:
                    if (key, item) in where:
                        raise ValueError(
                            f"catalogue: {key}.{item} is in both {where[key, item]} and {name}"
                        )
                    where[key, item] = name
                document.setdefault(key, {}).update(value)
            else:
                document[key] = value
    concepts = document.get("concepts", {})
    for cid in concepts:
        wanted = _file_of(cid, concepts)
        if where["concepts", cid] != wanted:
            raise ValueError(
                f"catalogue: concept {cid!r} is in {where['concepts', cid]}, not {wanted}"
            )
    order = list(document.get("groups", {}))
    rank = {g: k for k, g in enumerate(order)}
    document["concepts"] = dict(
        sorted(concepts.items(), key=lambda item: rank.get(item[1].get("group"), len(order)))
    )
    return document


@functools.cache
def load() -> Catalogue:
    """The installed catalogue (package data ``dlspec.spec/catalogue/``): ``groups.toml``, then
    each group's file in the order the groups are listed."""
    folder = resources.files("dlspec.spec").joinpath(CATALOGUE)
    common = tomllib.loads(folder.joinpath(COMMON).read_text(encoding="utf-8"))
    names = [COMMON] + [f"{g}.toml" for g in common.get("groups", {})]
    present = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    unknown = sorted(set(present) - set(names))
    if unknown:
        raise ValueError(f"catalogue: {unknown} name no group listed in {COMMON}")
    files = {COMMON: common}
    files |= {
        n: tomllib.loads(folder.joinpath(n).read_text(encoding="utf-8"))
        for n in names[1:]
        if n in present
    }
    return parse(merge(files | plugin_files()))
