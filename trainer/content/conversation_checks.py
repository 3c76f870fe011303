"""The rules every conversation keeps, whichever file it came from (YAML or Twee), and the way
through it that scores most.

A conversation is a graph: decisions (the customer speaks, the learner picks one of 2-4 lines,
each scored 0-2 and leading to a next node) and endings (good, mixed or poor). The checks find,
each at its line: a line leading to a node that does not exist, a node the start cannot reach,
a node that is neither an ending nor has choices, a loop that never reaches an ending, no good
ending, a way through longer than `MAX_CONVERSATION_STEPS` and a score outside 0-2.

Every check takes time in proportion to the file, except the search for the best and longest
ways through a conversation with loops, which is bounded by `MAX_ROUTES_EXPLORED`: no file can
hang `content check`.
"""

from __future__ import annotations

from collections import deque

from trainer.content.specs import (
    ENDINGS,
    MAX_CHOICE_SCORE,
    MAX_CHOICES,
    MAX_CONVERSATION_STEPS,
    MIN_CHOICES,
    ConversationSpec,
    NodeSpec,
    Problem,
    Route,
)

# Nodes visited while searching the ways through a conversation with loops. A conversation
# written for a five-minute lesson needs a few hundred.
MAX_ROUTES_EXPLORED = 200_000


def check_conversation(spec: ConversationSpec) -> list[Problem]:
    """Every problem of the conversation, in file order; sets `spec.best` when there is none."""
    problems: list[Problem] = []
    for node in spec.nodes.values():
        _check_node(spec.path, node, problems)
    _check_graph(spec, problems)
    if not problems and spec.start in spec.nodes:
        _check_routes(spec, problems)
    problems.sort()
    return problems


def _check_node(path: str, node: NodeSpec, problems: list[Problem]) -> None:
    def problem(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    if node.is_ending:
        if node.ending not in ENDINGS:
            problem(
                node.lines.get("ending", node.line),
                f'an ending is {", ".join(ENDINGS[:-1])} or {ENDINGS[-1]} (got "{node.ending}")',
            )
        if not node.summary:
            problem(node.line, f'the ending "{node.id}" has no summary: say how it ends')
        if node.choices:
            problem(
                node.lines.get("choices", node.line),
                f'"{node.id}" is an ending, so it has no choices',
            )
        return
    if not node.choices:
        problem(
            node.line,
            f'"{node.id}" is neither an ending nor has choices: give it the customer\'s line '
            "and 2 to 4 choices, or make it an ending with a summary",
        )
        return
    if not node.customer:
        problem(node.line, f'"{node.id}" has no customer line: what does the customer say?')
    if not MIN_CHOICES <= len(node.choices) <= MAX_CHOICES:
        problem(
            node.lines.get("choices", node.line),
            f'"{node.id}" has {len(node.choices)} choice(s); a node has '
            f"{MIN_CHOICES} to {MAX_CHOICES}",
        )
    scores = []
    for choice in node.choices:
        if choice.score is None:
            continue  # its own problem is reported where it was read
        if not 0 <= choice.score <= MAX_CHOICE_SCORE:
            problem(
                choice.lines.get("score", choice.line),
                f"a score is 0, 1 or {MAX_CHOICE_SCORE} (got {choice.score})",
            )
        scores.append(choice.score)
    if len(scores) == len(node.choices) > 1 and len(set(scores)) == 1:
        problem(
            node.lines.get("choices", node.line),
            f'every choice of "{node.id}" scores {scores[0]}: score the best line higher than '
            "the weaker ones, so there is something to learn",
        )


def _check_graph(spec: ConversationSpec, problems: list[Problem]) -> None:
    path, nodes = spec.path, spec.nodes
    known = ", ".join(f'"{key}"' for key in list(nodes)[:8]) + (", ..." if len(nodes) > 8 else "")
    for node in nodes.values():
        for choice in node.choices:
            if choice.next and choice.next not in nodes:
                problems.append(
                    Problem(
                        path,
                        choice.lines.get("next", choice.line),
                        f'the choice leads to "{choice.next}", a node that does not exist '
                        f"(nodes: {known})",
                    )
                )
    if not any(node.ending == "good" for node in nodes.values()):
        problems.append(
            Problem(
                path,
                spec.field_lines.get("nodes", spec.line),
                'no good ending: a conversation needs at least one node with "ending: good"',
            )
        )
    if spec.start not in nodes:
        if spec.start:
            problems.append(
                Problem(
                    path,
                    spec.field_lines.get("start", spec.line),
                    f'the start, "{spec.start}", is not a node (nodes: {known})',
                )
            )
        return

    reached = _reachable(spec)
    for node in nodes.values():
        if node.id not in reached:
            problems.append(
                Problem(
                    path,
                    node.line,
                    f'"{node.id}" cannot be reached from the start, "{spec.start}": lead a '
                    "choice to it, or delete it",
                )
            )
    for loop in _loops_without_ending(spec, reached):
        keys = sorted(loop, key=lambda key: nodes[key].line)
        if len(keys) == 1:
            message = (
                f'"{keys[0]}" only leads back to itself, a loop that never reaches an ending: '
                "give it a choice that leads on to an ending"
            )
        else:
            quoted = [f'"{key}"' for key in keys[:6]] + (["..."] if len(keys) > 6 else [])
            message = (
                f"{', '.join(quoted[:-1])} and {quoted[-1]} go round in a loop that never "
                "reaches an ending: give one of them a choice that leads on to an ending"
            )
        problems.append(Problem(path, nodes[keys[0]].line, message))


def _edges(node: NodeSpec, nodes: dict[str, NodeSpec]) -> list[str]:
    return [c.next for c in node.choices if c.next in nodes] if not node.is_ending else []


def _reachable(spec: ConversationSpec) -> set[str]:
    reached = {spec.start}
    queue = deque([spec.start])
    while queue:
        for key in _edges(spec.nodes[queue.popleft()], spec.nodes):
            if key not in reached:
                reached.add(key)
                queue.append(key)
    return reached


def _loops_without_ending(spec: ConversationSpec, reached: set[str]) -> list[set[str]]:
    """The loops among reachable nodes from which no ending can be reached."""
    nodes = spec.nodes
    leads_here: dict[str, list[str]] = {key: [] for key in nodes}
    for node in nodes.values():
        for key in _edges(node, nodes):
            leads_here[key].append(node.id)
    can_end = {key for key, node in nodes.items() if node.is_ending}
    queue = deque(can_end)
    while queue:
        for key in leads_here[queue.popleft()]:
            if key not in can_end:
                can_end.add(key)
                queue.append(key)
    stuck = {key for key in reached if key not in can_end and nodes[key].choices}
    graph = {key: [k for k in _edges(nodes[key], nodes) if k in stuck] for key in stuck}
    return [
        group
        for group in _strongly_connected(graph)
        if len(group) > 1 or any(key in graph[key] for key in group)
    ]


def _strongly_connected(graph: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, without recursion (a file may hold thousands
    of nodes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            key, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[key] = min(low[key], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[key])
            if low[key] == index[key]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == key:
                        break
                groups.append(group)
    return groups


# -- the ways through ---------------------------------------------------------------------------


class TooManyWays(Exception):
    """The loops of a conversation make more ways through than the checks will follow."""


def _check_routes(spec: ConversationSpec, problems: list[Problem]) -> None:
    try:
        best, longest = ways_through(spec)
    except TooManyWays:
        problems.append(
            Problem(
                spec.path,
                spec.nodes[spec.start].line,
                f"this conversation's loops make more than {MAX_ROUTES_EXPLORED:,} ways "
                "through it to check; take out a loop",
            )
        )
        return
    if longest.steps > MAX_CONVERSATION_STEPS:
        problems.append(
            Problem(
                spec.path,
                spec.nodes[spec.start].line,
                f'the longest way through, from "{longest.nodes[0]}" to the ending '
                f'"{longest.nodes[-1]}", takes {longest.steps} steps; a conversation takes at '
                f"most {MAX_CONVERSATION_STEPS}: shorten it, or split it in two",
            )
        )
        return
    spec.best = best


def ways_through(spec: ConversationSpec) -> tuple[Route, Route]:
    """(the way through that scores most, the longest way through) of a conversation that
    passed the graph checks. A way through goes from the start to an ending without passing a
    node twice; of two that score the same, the shorter is the best.

    Raises `TooManyWays` when its loops make more ways than `MAX_ROUTES_EXPLORED`.
    """
    nodes = spec.nodes
    graph = {
        key: [(c.next, c.score or 0) for c in node.choices if c.next in nodes]
        for key, node in nodes.items()
    }
    order = _topological(graph, spec.start)
    if order is None:
        return _search(graph, spec.start, nodes)
    # No loops: the best and the longest way on from each node, the last nodes first.
    best: dict[str, tuple[int, int, str | None]] = {}  # points, -steps, next
    longest: dict[str, tuple[int, str | None]] = {}
    for key in reversed(order):
        if nodes[key].is_ending:
            best[key], longest[key] = (0, 0, None), (0, None)
            continue
        best[key] = max(
            ((score + best[n][0], best[n][1] - 1, n) for n, score in graph[key]),
            key=lambda option: option[:2],
        )
        longest[key] = max(((longest[n][0] + 1, n) for n, _score in graph[key]),
                           key=lambda option: option[0])  # fmt: skip

    def follow(table: dict, key: str) -> list[str]:
        route = [key]
        while table[route[-1]][-1] is not None:
            route.append(table[route[-1]][-1])
        return route

    return (
        Route(follow(best, spec.start), best[spec.start][0]),
        Route(follow(longest, spec.start), 0),
    )


def _topological(graph: dict[str, list[tuple[str, int]]], start: str) -> list[str] | None:
    """The nodes reachable from `start`, each before the nodes it leads to; None if they loop."""
    order: list[str] = []
    state: dict[str, int] = {start: 1}  # 1 on the current path, 2 done
    work = [(start, iter(graph[start]))]
    while work:
        key, children = work[-1]
        child = next(children, None)
        if child is None:
            work.pop()
            state[key] = 2
            order.append(key)
            continue
        seen = state.get(child[0])
        if seen == 1:
            return None
        if seen is None:
            state[child[0]] = 1
            work.append((child[0], iter(graph[child[0]])))
    order.reverse()
    return order


def _search(
    graph: dict[str, list[tuple[str, int]]], start: str, nodes: dict[str, NodeSpec]
) -> tuple[Route, Route]:
    """Every way through a conversation with loops, followed one by one (bounded)."""
    best: Route | None = None
    longest: Route | None = None
    route, points = [start], [0]
    on_route = {start}
    work = [iter(graph[start])]
    explored = 0
    while work:
        step = next(work[-1], None)
        if step is None:
            work.pop()
            on_route.discard(route.pop())
            points.pop()
            continue
        key, score = step
        if key in on_route:
            continue
        explored += 1
        if explored > MAX_ROUTES_EXPLORED:
            raise TooManyWays
        if nodes[key].is_ending:
            found = Route([*route, key], points[-1] + score)
            if best is None or (found.points, -found.steps) > (best.points, -best.steps):
                best = found
            if longest is None or found.steps > longest.steps:
                longest = found
            continue
        route.append(key)
        on_route.add(key)
        points.append(points[-1] + score)
        work.append(iter(graph[key]))
    if best is None or longest is None:  # every node can reach an ending: there is a way
        raise TooManyWays
    return best, longest
