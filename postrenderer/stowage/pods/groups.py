"""The parts of the concurrency model: groups of pods live at once, and the graphs behind them.

:class:`Member` and :class:`Group` are what :mod:`stowage.pods.concurrency` returns;
:class:`Dag` is a dependency graph whose edges either serialise (the dependent starts
after the other finished) or not (it starts while the other still runs: a JobSet's
`dependsOn: Ready`, a task after an Argo daemon); :func:`cliques` lists the maximal
sets of pairwise overlapping pods. Pods are intervals in time, so pods that overlap
pairwise are all live at one moment: a maximal clique is a maximal group.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from stowage.pods.podspecs import Path

MANY = 1_000_000  # "as many as the cluster runs": DaemonSets, fan-outs of unknown size
MOST_NODES = 200  # more pod uses than this in one object: counted as all at once
MOST_GROUPS = 500


def count_text(pods: int) -> str:
    """A pod count as messages say it: "many" for DaemonSets and unbounded fan-outs."""
    return "many" if pods >= MANY else str(pods)


def plural(count: int, noun: str) -> str:
    return f"{count_text(count)} {noun}{'s' * (count != 1)}"


@dataclass(frozen=True)
class Member:
    """The pods of one pod spec (of one use of it, for Argo) in a group."""

    path: Path  # where the pod spec lives in the manifest (a PodSite's path)
    pods: int  # live at once (MANY: unbounded)
    why: str  # "3 replicas", "withItems fans out 3 pods", "1 pod"
    label: str = ""  # which use of the pod spec: "step 'a'", "task 'B'", a component
    cap: str = ""  # the cap (a template's parallelism) this member counts toward


@dataclass(frozen=True)
class Group:
    """Pods that can all be live at the same time, and why they overlap."""

    members: tuple[Member, ...]
    reasons: tuple[tuple[int, int, str], ...] = ()  # (member, member, why those two overlap)
    caps: tuple[tuple[str, int, str], ...] = ()  # (cap name, most pods, why); "" caps them all

    def chosen(
        self, paths: Collection[Path] | None, uses: Collection[str] | None = None
    ) -> list[int]:
        """The members at ``paths`` (all when None), of the ``uses`` (labels) when given."""
        return [
            i
            for i, m in enumerate(self.members)
            if (paths is None or m.path in paths) and (uses is None or m.label in uses)
        ]

    def pods(
        self, paths: Collection[Path] | None = None, uses: Collection[str] | None = None
    ) -> int:
        """How many pods of the group (of the pod specs at ``paths``) can be live at once."""
        chosen = [self.members[i] for i in self.chosen(paths, uses)]
        limits = {name: most for name, most, _ in self.caps}
        total = sum(m.pods for m in chosen if not m.cap or m.cap not in limits)
        capped: dict[str, int] = {}
        for member in chosen:
            if member.cap and member.cap in limits:
                capped[member.cap] = capped.get(member.cap, 0) + member.pods
        total += sum(min(n, limits[name]) for name, n in capped.items())
        if "" in limits:
            total = min(total, limits[""])
        return min(total, MANY)

    def why(
        self, paths: Collection[Path] | None = None, uses: Collection[str] | None = None
    ) -> str:
        """Why these pods (of the pod specs at ``paths``) overlap, as messages say it."""
        chosen = self.chosen(paths, uses)
        members = [self.members[i] for i in chosen]
        parts = list(dict.fromkeys(w for a, b, w in self.reasons if a in chosen and b in chosen))
        if len(parts) > 3:
            parts = [*parts[:3], f"and {len(parts) - 3} more pairs"]
        counts = [m.why for m in members if m.pods != 1]
        if not parts and len(members) > 1:
            whys = [m.why for m in members]
            same = len(set(whys)) == 1
            counts = [f"{whys[0]}, for each of {len(whys)}" if same else " + ".join(whys)]
            counts[0] += " (they run together)"
        elif not parts and not counts:
            counts = [m.why for m in members]
        total = sum(m.pods for m in members)
        caps = [
            why
            for name, most, why in self.caps
            if most < total and (not name or any(m.cap == name for m in members))
        ]
        return "; ".join(dict.fromkeys([*parts, *counts, *caps]))


@dataclass
class Dag:
    """Tasks and what each waits for; an edge that does not serialise lets both run."""

    needs: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # task -> (dep, serial)
    _reach: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _after: dict[str, list[tuple[str, bool]]] = field(default_factory=dict, repr=False)

    def add(self, task: str) -> None:
        self.needs.setdefault(task, [])

    def need(self, task: str, dep: str, serialises: bool = True) -> None:
        self.needs.setdefault(task, []).append((dep, serialises))
        self.add(dep)
        self._reach.clear()
        self._after.clear()

    def deps(self, task: str) -> list[str]:
        return sorted({dep for dep, _ in self.needs.get(task, [])})

    def _dependents(self, task: str) -> list[tuple[str, bool]]:
        if not self._after:
            for waiting, needs in self.needs.items():
                for dep, serial in needs:
                    self._after.setdefault(dep, []).append((waiting, serial))
        return self._after.get(task, [])

    def reach(self, task: str) -> frozenset[str]:
        """The tasks that wait, directly or not, for ``task``."""
        if task not in self._reach:
            self._reach[task] = frozenset()  # a cycle (refused by the operator) ends here
            found: set[str] = set()
            for dependent, _ in self._dependents(task):
                found |= {dependent, *self.reach(dependent)}
            self._reach[task] = frozenset(found)
        return self._reach[task]

    def before(self, first: str, then: str) -> bool:
        """``first`` has finished before ``then`` starts."""
        return any(
            serial and (dependent == then or then in self.reach(dependent))
            for dependent, serial in self._dependents(first)
        )

    def concurrent(self, a: str, b: str) -> bool:
        return a != b and not self.before(a, b) and not self.before(b, a)

    def why(self, a: str, b: str, word: str, soft: str) -> str:
        """Why tasks ``a`` and ``b`` overlap: ``word`` names a task ("task"), ``soft``
        says why an edge does not serialise ("{a} is daemoned: it stays up while {b} runs")."""
        if b in self.reach(a) or a in self.reach(b):
            first, then = (a, b) if b in self.reach(a) else (b, a)
            return soft.format(a=f"{word} '{first}'", b=f"{word} '{then}'")
        deps_a, deps_b = self.deps(a), self.deps(b)
        if deps_a == deps_b and deps_a:
            names = " and ".join(f"'{d}'" for d in deps_a)
            return f"{word}s '{a}' and '{b}' both depend only on {names}"
        if deps_a == deps_b:
            return f"{word}s '{a}' and '{b}' wait for nothing: they start together"
        return f"no dependency path between {word}s '{a}' and '{b}'"

    def groups(
        self, members: list[Member], names: list[str], word: str, soft: str
    ) -> tuple[Group, ...]:
        """The groups of ``members`` (the nodes ``names``, in order) that run at once: the
        cliques of the nodes no dependency path orders, each pair with :meth:`why`. Past
        what stowage enumerates, every member in one group (never an overlap missed)."""
        try:
            found = cliques(len(members), lambda a, b: self.concurrent(names[a], names[b]))
        except TooManyError:
            return (Group(tuple(members)),)
        return tuple(
            Group(
                tuple(members[i] for i in clique),
                tuple(
                    (x, y, self.why(names[clique[x]], names[clique[y]], word, soft))
                    for x in range(len(clique))
                    for y in range(x + 1, len(clique))
                ),
            )
            for clique in found
        )


class TooManyError(Exception):
    """More pod uses or overlapping groups than stowage enumerates."""


def cliques(count: int, overlap: Callable[[int, int], bool]) -> list[tuple[int, ...]]:
    """The maximal sets of items 0..count-1 that pairwise ``overlap``, sorted."""
    if count > MOST_NODES:
        raise TooManyError
    near = [{j for j in range(count) if j != i and overlap(i, j)} for i in range(count)]
    found: list[tuple[int, ...]] = []

    def grow(clique: set[int], candidates: set[int], excluded: set[int]) -> None:
        if not candidates and not excluded:
            found.append(tuple(sorted(clique)))
            if len(found) > MOST_GROUPS:
                raise TooManyError
            return
        pivot = max(candidates | excluded, key=lambda i: len(near[i] & candidates))
        for item in sorted(candidates - near[pivot]):
            grow(clique | {item}, candidates & near[item], excluded & near[item])
            candidates = candidates - {item}
            excluded = excluded | {item}

    grow(set(), set(range(count)), set())
    return sorted(found) if count else []
