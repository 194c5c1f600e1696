"""The node kinds, a version's compiled graph, and the checks a version must pass to be published.

A node's `config` names the nodes that follow it (`next`, `on_failure`, option maps...). The kind
table below says which keys hold edges, which prompts a node plays, whether it waits for the caller
(only such nodes may close a loop) and whether it is a menu level (for the depth limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from apps.ivr.conf import ivr_language_codes, ivr_setting

DTMF_KEYS = frozenset("0123456789*#")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
VARIABLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
NUMBER_RE = re.compile(r"^\+?[0-9]{2,20}$")
HANGUP_CAUSES = frozenset(
    {"NORMAL_CLEARING", "USER_BUSY", "CALL_REJECTED", "NORMAL_TEMPORARY_FAILURE"}
)
ATTRIBUTE_NAMES = frozenset({"queue", "priority", "skills", "tier", "customer_id"})
MAX_COLLECT_DIGITS = 32


@dataclass(frozen=True)
class KindSpec:
    """What the graph needs to know about a node kind."""

    edges: tuple[str, ...] = ()  # config keys holding one node key
    optional_edges: tuple[str, ...] = ()
    edge_maps: tuple[str, ...] = ()  # config keys holding {choice: node key}
    prompts: tuple[str, ...] = ()  # required prompt keys
    optional_prompts: tuple[str, ...] = ()
    waits: bool = False  # the node waits for the caller (input, recording, transfer)
    terminal: bool = False  # the call leaves the flow here
    menu_level: bool = False


KINDS: dict[str, KindSpec] = {
    "menu": KindSpec(
        edges=("on_failure",),
        edge_maps=("options",),
        prompts=("prompt",),
        optional_prompts=("invalid_prompt", "timeout_prompt"),
        waits=True,
        menu_level=True,
    ),
    "play": KindSpec(edges=("next",), prompts=("prompt",)),
    "collect": KindSpec(
        edges=("next", "on_failure"),
        prompts=("prompt",),
        optional_prompts=("invalid_prompt", "timeout_prompt"),
        waits=True,
    ),
    "lookup_customer": KindSpec(edges=("next_found", "next_not_found")),
    "lookup_http": KindSpec(edges=("next", "on_failure")),
    "hours": KindSpec(edges=("next_open", "next_closed"), optional_edges=("next_holiday",)),
    "language": KindSpec(
        edges=("next",),
        prompts=("prompt",),
        optional_prompts=("invalid_prompt", "timeout_prompt"),
        waits=True,
        menu_level=True,
    ),
    "set": KindSpec(edges=("next",)),
    "queue": KindSpec(optional_prompts=("prompt",), terminal=True),
    "callback": KindSpec(edges=("next",), optional_prompts=("prompt",)),
    "voicemail": KindSpec(edges=("next",), prompts=("prompt",), waits=True),
    "transfer": KindSpec(
        optional_edges=("on_failure",), optional_prompts=("prompt",), waits=True, terminal=True
    ),
    "hangup": KindSpec(optional_prompts=("prompt",), terminal=True),
    "speech": KindSpec(
        edges=("on_failure",),
        edge_maps=("options",),
        prompts=("prompt",),
        optional_prompts=("invalid_prompt", "timeout_prompt"),
        waits=True,
        menu_level=True,
    ),
}


@dataclass(frozen=True)
class Node:
    key: str
    kind: str
    config: dict[str, Any]
    label: str = ""

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    def edges(self) -> list[tuple[str, str]]:
        """Return (what, target key) for every edge the config declares, empty targets included."""
        spec = self.spec
        found: list[tuple[str, str]] = []
        for name in spec.edges:
            found.append((name, str(self.config.get(name) or "")))
        for name in spec.optional_edges:
            if self.config.get(name):
                found.append((name, str(self.config[name])))
        for name in spec.edge_maps:
            mapping = self.config.get(name) or {}
            if isinstance(mapping, dict):
                for choice, target in mapping.items():
                    found.append((f"{name}[{choice}]", str(target or "")))
        if self.kind == "speech":
            intents = self.config.get("intents") or {}
            if isinstance(intents, dict):
                for intent, spec_ in intents.items():
                    target = spec_.get("next", "") if isinstance(spec_, dict) else ""
                    found.append((f"intents[{intent}]", str(target or "")))
        return found

    def prompt_names(self) -> list[tuple[str, str, bool]]:
        """Return (config key, prompt name, required) of the prompts the node plays."""
        names: list[tuple[str, str, bool]] = []
        for key in self.spec.prompts:
            names.append((key, str(self.config.get(key) or ""), True))
        for key in self.spec.optional_prompts:
            if self.config.get(key):
                names.append((key, str(self.config[key]), False))
        return names


@dataclass(frozen=True)
class Graph:
    """A flow version ready to run: immutable, cached per published version."""

    flow_id: int
    flow_name: str
    version_id: int
    version_number: int
    entry: str
    nodes: dict[str, Node]
    default_language: str
    languages: tuple[str, ...]
    fallback_queue: str
    is_published: bool = False

    def node(self, key: str) -> Node | None:
        return self.nodes.get(key)


@dataclass
class Problem:
    node: str
    message: str

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.node else self.message


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def add(self, node: str, message: str) -> None:
        self.problems.append(Problem(node, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self) -> list[str]:
        return [str(problem) for problem in self.problems]


def graph_from_version(version: Any) -> Graph:
    """Compile a FlowVersion (with its flow) into a Graph; one query for the nodes."""
    flow = version.flow
    frozen = version.flow_settings or {}
    languages = frozen.get("languages") or flow.all_languages
    nodes = {
        row.key: Node(key=row.key, kind=row.kind, config=dict(row.config or {}), label=row.label)
        for row in version.nodes.all()
    }
    return Graph(
        flow_id=flow.pk,
        flow_name=flow.name,
        version_id=version.pk,
        version_number=version.number,
        entry=version.entry_node,
        nodes=nodes,
        default_language=languages[0],
        languages=tuple(languages),
        fallback_queue=frozen.get("fallback_queue", flow.fallback_queue),
        is_published=version.status != "draft",
    )


_PUBLISHED: dict[int, Graph] = {}
_PUBLISHED_MAX = 256


def graph_load(version_id: int) -> Graph:
    """Return the graph of a version. Published ones are cached in the process: they never change.

    Drafts (which the tester runs) are read afresh every time.
    """
    from apps.ivr.models import FlowVersion

    cached = _PUBLISHED.get(version_id)
    if cached is not None:
        return cached
    version = FlowVersion.objects.select_related("flow").get(pk=version_id)
    graph = graph_from_version(version)
    if graph.is_published:
        if len(_PUBLISHED) >= _PUBLISHED_MAX:
            _PUBLISHED.pop(next(iter(_PUBLISHED)))
        _PUBLISHED[version_id] = graph
    return graph


# ---------------------------------------------------------------- validation


def _int_in(
    config: dict,
    key: str,
    low: int,
    high: int,
    *,
    report: Report,
    node: str,
) -> None:
    if key not in config or config[key] in (None, ""):
        return
    value = config[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        report.add(
            node,
            _("%(key)s must be a whole number from %(low)s to %(high)s.")
            % {"key": key, "low": low, "high": high},
        )


def _check_dtmf_map(config: dict, key: str, report: Report, node: str) -> dict:
    mapping = config.get(key)
    if not isinstance(mapping, dict) or not mapping:
        report.add(node, _("%(key)s needs at least one key press.") % {"key": key})
        return {}
    for choice in mapping:
        if len(choice) != 1 or choice not in DTMF_KEYS:
            report.add(
                node,
                _("Option %(choice)s is not a single telephone key (0-9, * or #).")
                % {"choice": choice},
            )
    return mapping


def _check_kind_config(node: Node, report: Report, context: ValidationContext) -> None:  # noqa: PLR0912, PLR0915
    config, key, kind = node.config, node.key, node.kind
    if node.spec.waits:
        _int_in(config, "timeout_ms", 1000, 30000, report=report, node=key)
        _int_in(config, "retries", 0, 5, report=report, node=key)
    if kind in ("menu", "speech"):
        _check_dtmf_map(config, "options", report, key)
    if kind == "speech":
        intents = config.get("intents")
        if not isinstance(intents, dict) or not intents:
            report.add(key, _("A speech step needs at least one intent."))
        else:
            for intent, spec in intents.items():
                words = spec.get("keywords") if isinstance(spec, dict) else None
                if not isinstance(words, list) or not [w for w in words if str(w).strip()]:
                    report.add(key, _("Intent %(intent)s needs keywords.") % {"intent": intent})
    if kind == "language":
        options = _check_dtmf_map(config, "options", report, key)
        for choice, language in options.items():
            if language not in context.languages:
                report.add(
                    key,
                    _("Option %(choice)s chooses %(lang)s, which the flow does not offer.")
                    % {"choice": choice, "lang": language},
                )
    if kind == "collect":
        if not VARIABLE_RE.match(str(config.get("variable") or "")):
            report.add(key, _("Name the collected value (lower-case letters, digits, '_')."))
        _int_in(config, "min_length", 1, MAX_COLLECT_DIGITS, report=report, node=key)
        _int_in(config, "max_length", 1, MAX_COLLECT_DIGITS, report=report, node=key)
        _int_in(config, "digit_timeout_ms", 500, 10000, report=report, node=key)
        low, high = config.get("min_length", 1), config.get("max_length", 10)
        if isinstance(low, int) and isinstance(high, int) and low > high:
            report.add(key, _("min_length is greater than max_length."))
        pattern = config.get("pattern")
        if pattern:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                report.add(
                    key,
                    _("The pattern is not a valid regular expression: %(error)s") % {"error": exc},
                )
    if kind == "lookup_http":
        url = str(config.get("url") or "")
        if not url.startswith(("http://", "https://")):
            report.add(key, _("The lookup URL must start with http:// or https://."))
        else:
            prefixes = ivr_setting("IVR_LOOKUP_ALLOWED_PREFIXES")
            if prefixes and not any(url.startswith(prefix) for prefix in prefixes):
                report.add(key, _("The lookup URL is not in IVR_LOOKUP_ALLOWED_PREFIXES."))
        _int_in(
            config, "timeout_ms", 100, ivr_setting("IVR_LOOKUP_TIMEOUT_MS"), report=report, node=key
        )
        assign = config.get("assign") or {}
        if not isinstance(assign, dict):
            report.add(key, _("assign maps call attributes to fields of the answer."))
        else:
            for attribute in assign:
                if attribute not in ATTRIBUTE_NAMES and not VARIABLE_RE.match(attribute):
                    report.add(key, _("Unknown attribute %(name)s.") % {"name": attribute})
    if kind == "hours":
        name = str(config.get("schedule") or "")
        if not name:
            report.add(key, _("Choose a business-hours schedule."))
        elif name not in context.schedules:
            report.add(key, _("Schedule %(name)s does not exist.") % {"name": name})
    if kind in ("set", "queue"):
        _int_in(config, "priority", 0, 100, report=report, node=key)
        skills = config.get("skills")
        if skills is not None and (
            not isinstance(skills, list) or not all(SLUG_RE.match(str(s)) for s in skills)
        ):
            report.add(key, _("skills is a list of skill slugs."))
        if kind == "set" and not any(
            config.get(k) not in (None, "", []) for k in ("priority", "skills", "tier")
        ):
            report.add(key, _("Set at least one of priority, skills or tier."))
    if kind in ("queue", "callback") or (kind == "voicemail" and config.get("queue")):
        slug = str(config.get("queue") or "")
        if not SLUG_RE.match(slug):
            report.add(key, _("Choose the queue (its slug)."))
        elif context.queues is not None and slug not in context.queues:
            report.add(key, _("Queue %(slug)s does not exist.") % {"slug": slug})
    if kind == "voicemail":
        _int_in(config, "max_seconds", 5, 600, report=report, node=key)
    if kind == "transfer" and not NUMBER_RE.match(str(config.get("number") or "")):
        report.add(key, _("The transfer number must be 2 to 20 digits ('+' allowed)."))
    if kind == "hangup" and config.get("cause") and config["cause"] not in HANGUP_CAUSES:
        report.add(key, _("Unknown hangup cause %(cause)s.") % {"cause": config["cause"]})


@dataclass
class ValidationContext:
    languages: tuple[str, ...]
    prompts: dict[str, set[str]]  # prompt name -> languages that have audio or text
    schedules: set[str]
    queues: set[str] | None  # None when the routing app offers no queues to check against
    depth_limit: int


def validate_graph(graph: Graph, context: ValidationContext) -> Report:  # noqa: PLR0912
    """Return every problem that must be fixed before the version may be published."""
    report = Report()
    if not graph.nodes:
        report.add("", _("The flow has no nodes."))
        return report
    if graph.entry not in graph.nodes:
        report.add("", _("The entry node %(key)s does not exist.") % {"key": graph.entry})
        return report
    unknown_languages = [lang for lang in graph.languages if lang not in ivr_language_codes()]
    for language in unknown_languages:
        report.add("", _("Language %(lang)s is not offered to callers.") % {"lang": language})

    successors: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.kind not in KINDS:
            report.add(node.key, _("Unknown node kind %(kind)s.") % {"kind": node.kind})
            successors[node.key] = []
            continue
        _check_kind_config(node, report, context)
        targets = []
        for what, target in node.edges():
            if not target:
                report.add(node.key, _("%(what)s leads nowhere.") % {"what": what})
            elif target not in graph.nodes:
                report.add(
                    node.key,
                    _("%(what)s leads to %(target)s, which does not exist.")
                    % {"what": what, "target": target},
                )
            else:
                targets.append(target)
        successors[node.key] = targets
        for config_key, prompt, required in node.prompt_names():
            if not prompt:
                if required:
                    report.add(node.key, _("%(key)s: choose a prompt.") % {"key": config_key})
                continue
            have = context.prompts.get(prompt)
            if have is None:
                report.add(node.key, _("Prompt %(name)s does not exist.") % {"name": prompt})
                continue
            for language in graph.languages:
                if language not in have:
                    report.add(
                        node.key,
                        _("Prompt %(name)s has no %(lang)s version.")
                        % {"name": prompt, "lang": language},
                    )

    reachable = _reachable(graph.entry, successors)
    for key in graph.nodes:
        if key not in reachable:
            report.add(key, _("No caller can reach this node."))

    # Loops without an exit: from every reachable node some terminal node must be reachable.
    exits = {key for key, node in graph.nodes.items() if node.kind in KINDS and node.spec.terminal}
    can_exit = _can_reach(exits, successors)
    for key in sorted(reachable):
        if key not in can_exit:
            report.add(key, _("Callers here are caught in a loop with no way out of the flow."))

    # A cycle made only of steps that do not wait for the caller would make FreeSWITCH ask
    # for documents in a tight loop (thousands of requests a second).
    busy = {key for key, node in graph.nodes.items() if node.kind in KINDS and not node.spec.waits}
    for cycle in _cycles_within(busy, successors):
        report.add(
            cycle[0],
            _("These steps loop without waiting for the caller: %(cycle)s.")
            % {"cycle": " → ".join([*cycle, cycle[0]])},
        )

    depth = _menu_depths(graph, successors)
    for key, level in sorted(depth.items()):
        if level > context.depth_limit:
            report.add(
                key,
                _("This menu is %(level)s levels deep; the limit is %(limit)s.")
                % {"level": level, "limit": context.depth_limit},
            )
    return report


def _reachable(entry: str, successors: dict[str, list[str]]) -> set[str]:
    seen = {entry}
    stack = [entry]
    while stack:
        for target in successors.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _can_reach(goals: Iterable[str], successors: dict[str, list[str]]) -> set[str]:
    predecessors: dict[str, set[str]] = {}
    for source, targets in successors.items():
        for target in targets:
            predecessors.setdefault(target, set()).add(source)
    seen = set(goals)
    stack = list(seen)
    while stack:
        for source in predecessors.get(stack.pop(), ()):
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return seen


def _cycles_within(allowed: set[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Return one cycle per strongly connected group of `allowed` nodes (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = [0]

    def visit(start: str) -> None:
        work = [(start, iter([t for t in successors.get(start, []) if t in allowed]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter([t for t in successors.get(child, []) if t in allowed]))
                    )
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                self_loop = node in successors.get(node, [])
                if len(group) > 1 or self_loop:
                    cycles.append(sorted(group))

    for key in sorted(allowed):
        if key not in index:
            visit(key)
    return cycles


def _menu_depths(graph: Graph, successors: dict[str, list[str]]) -> dict[str, int]:
    """Return, for each menu-level node, the fewest menu levels a caller passes to reach it."""
    best: dict[str, int] = {}
    entry = graph.entry

    def level_of(key: str) -> int:
        node = graph.nodes[key]
        return 1 if node.kind in KINDS and node.spec.menu_level else 0

    # 0-1 breadth-first search: entering a menu costs one level, any other node nothing.
    from collections import deque

    queue: deque[tuple[str, int]] = deque([(entry, level_of(entry))])
    seen: dict[str, int] = {entry: level_of(entry)}
    while queue:
        key, level = queue.popleft()
        if level > seen.get(key, level):
            continue
        for target in successors.get(key, []):
            cost = level + level_of(target)
            if cost < seen.get(target, 1 << 30):
                seen[target] = cost
                if cost == level:
                    queue.appendleft((target, cost))
                else:
                    queue.append((target, cost))
    for key, level in seen.items():
        if level_of(key):
            best[key] = level
    return best
