"""Conversation files, YAML and Twee: what they parse into, and every rule `content check`
keeps, each reported as `path:line: message` at the line to fix."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.conftest import make_app
from tests.conversation_samples import CONVERSATION, TWEE, TWEE_PATH, YAML_PATH, line_of
from tests.test_content_check import LESSON, LESSON_PATH, edited, write_library
from trainer import ROOT
from trainer.content.conversation_checks import MAX_ROUTES_EXPLORED
from trainer.content.conversations import parse_conversation_yaml
from trainer.content.library import load_library
from trainer.content.twee import parse_twee


def yaml_problems(text: str) -> list[str]:
    spec, problems = parse_conversation_yaml(text, YAML_PATH)
    if problems:
        assert spec is None  # a conversation with problems is never half-loaded
    return [str(p) for p in problems]


def twee_problems(text: str) -> list[str]:
    spec, problems = parse_twee(text, TWEE_PATH, "third-late-payment")
    if problems:
        assert spec is None
    return [str(p) for p in problems]


def at(path: str, text: str, needle: str, message: str, nth: int = 1) -> str:
    return f"{path}:{line_of(text, needle, nth)}: {message}"


def graph(spec) -> dict:
    """What a player sees of each node: the same whichever file it came from."""
    result = {}
    for key, node in spec.nodes.items():
        fields = asdict(node)
        fields.pop("line"), fields.pop("lines")
        for choice in fields["choices"]:
            choice.pop("line"), choice.pop("lines")
        result[key] = fields
    return result


# --- what the files say ------------------------------------------------------------------------


def test_a_yaml_conversation_parses_into_its_nodes_and_best_way_through() -> None:
    spec, problems = parse_conversation_yaml(CONVERSATION, YAML_PATH)
    assert problems == []
    assert (spec.id, spec.title, spec.skill, spec.setting, spec.start) == (
        "third-late-payment",
        "The third call about a late payment",
        "collections-call",
        "contact-centre",
        "open",
    )
    assert list(spec.nodes) == ["open", "listen", "angry", "plan", "saved", "grudging", "lost"]
    opening = spec.nodes["open"]
    assert opening.customer == "I know, I'm late again. What do you want?"
    assert opening.cue == "defensive"
    assert [(c.score, c.next) for c in opening.choices] == [(2, "listen"), (0, "angry")]
    assert spec.nodes["grudging"].ending == "mixed"
    assert spec.best.nodes == ["open", "listen", "plan", "saved"]
    assert (spec.best.points, spec.best.steps) == (6, 3)


def test_the_same_conversation_drawn_in_twine_reads_the_same() -> None:
    from_yaml, _ = parse_conversation_yaml(CONVERSATION, YAML_PATH)
    from_twee, problems = parse_twee(TWEE, TWEE_PATH, "third-late-payment")
    assert problems == []
    assert graph(from_twee) == graph(from_yaml)
    assert (from_twee.title, from_twee.skill, from_twee.setting, from_twee.start) == (
        from_yaml.title,
        from_yaml.skill,
        from_yaml.setting,
        from_yaml.start,
    )
    assert from_twee.best == from_yaml.best


def test_twee_links_are_read_in_each_of_twines_forms() -> None:
    spec, _ = parse_twee(TWEE, TWEE_PATH, "third-late-payment")
    # "text->target", "target<-text" and "text|target" all say a line and lead to its reply.
    assert [c.say for c in spec.nodes["listen"].choices] == [
        "Thanks. What's made this month hard?",
        "How much can you pay today?",
    ]
    assert spec.nodes["angry"].choices[0].feedback.startswith("You own the tone")
    # A reply's problem is reported at the reply, its choice's at the link.
    choice = spec.nodes["open"].choices[1]
    assert choice.line == line_of(TWEE, "[[You are 45 days past due")
    assert choice.lines == {
        "score": line_of(TWEE, ":: open-blunt"),
        "next": line_of(TWEE, "[[angry]]"),
    }


def test_a_loop_that_can_reach_an_ending_is_fine_and_counts_once_in_the_best_score() -> None:
    text = edited(
        CONVERSATION,
        '        next: plan\n      - say: "How much',
        '        next: angry\n      - say: "How much',
    )
    spec, problems = parse_conversation_yaml(text, YAML_PATH)
    assert problems == []
    # listen -> angry -> plan is a way; angry never leads back, so only ways without a repeat.
    assert spec.best.nodes == ["open", "listen", "angry", "plan", "saved"]
    assert spec.best.points == 8


# --- each rule, YAML -----------------------------------------------------------------------------


def test_a_choice_leading_to_a_node_that_does_not_exist() -> None:
    text = edited(
        CONVERSATION,
        '        next: plan\n      - say: "I understand',
        '        next: plam\n      - say: "I understand',
    )
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "next: plam",
            'the choice leads to "plam", a node that does not exist (nodes: "open", "listen", '
            '"angry", "plan", "saved", "grudging", "lost")',
        )
    ]


def test_nodes_the_start_cannot_reach() -> None:
    text = edited(CONVERSATION, "        next: angry\n", "        next: plan\n")
    message = 'cannot be reached from the start, "open": lead a choice to it, or delete it'
    assert yaml_problems(text) == [
        at(YAML_PATH, text, "  angry:", f'"angry" {message}'),
        at(YAML_PATH, text, "  lost:", f'"lost" {message}'),
    ]


def test_a_node_that_is_neither_an_ending_nor_has_choices() -> None:
    text = edited(
        CONVERSATION,
        '    ending: mixed\n    summary: "He agrees to sixty to end the call. You both know it '
        "won't last.\"\n",
        '    customer: "Sixty? Fine. Whatever."\n',
    )
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "  grudging:",
            '"grudging" is neither an ending nor has choices: give it the customer\'s line and 2 '
            "to 4 choices, or make it an ending with a summary",
        )
    ]


def test_a_loop_that_cannot_reach_an_ending() -> None:
    stalling = """\
  stall:
    customer: "Look, can you just ring back next week?"
    choices:
      - say: "Of course. Speak then."
        score: 0
        feedback: "Next week he is a week further behind."
        next: stall-again
      - say: "Sure, when suits?"
        score: 1
        feedback: "Friendly, but nothing is agreed."
        next: stall-again
  stall-again:
    customer: "It's Ortiz again. You said you'd ring."
    choices:
      - say: "Sorry, can I call you back?"
        score: 0
        feedback: "Round it goes."
        next: stall
      - say: "Let's leave it a few more days."
        score: 1
        feedback: "Round it goes."
        next: stall
"""
    text = edited(
        CONVERSATION,
        '        next: plan\n      - say: "How much',
        '        next: stall\n      - say: "How much',
    )
    text = edited(text, "  saved:\n", stalling + "  saved:\n")
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "  stall:",
            '"stall" and "stall-again" go round in a loop that never reaches an ending: give '
            "one of them a choice that leads on to an ending",
        )
    ]


def test_a_node_that_only_leads_back_to_itself() -> None:
    text = edited(CONVERSATION, "        next: lost", "        next: angry")
    text = edited(
        text,
        '        next: plan\n      - say: "I understand',
        '        next: angry\n      - say: "I understand',
    )
    problems = yaml_problems(text)
    assert (
        at(
            YAML_PATH,
            text,
            "  angry:",
            '"angry" only leads back to itself, a loop that never reaches an ending: give it a '
            "choice that leads on to an ending",
        )
        in problems
    )


def test_no_good_ending() -> None:
    text = edited(CONVERSATION, "ending: good", "ending: mixed")
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "nodes:",
            'no good ending: a conversation needs at least one node with "ending: good"',
        )
    ]


def test_a_node_id_used_twice() -> None:
    text = edited(CONVERSATION, "  angry:\n", "  listen:\n")
    first = line_of(text, "  listen:")
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "  listen:",
            f'"listen" is given twice (first on line {first}); keep one: the second would '
            "replace the first",
            nth=2,
        )
    ]


def chain(steps: int) -> str:
    """A conversation whose best way through takes `steps` steps, one node after another."""
    nodes = []
    for n in range(steps):
        onward = f"step-{n + 1}" if n + 1 < steps else "saved"
        nodes.append(
            f"""\
  step-{n}:
    customer: "And another thing."
    choices:
      - say: "Go on."
        score: 2
        feedback: "Listening."
        next: {onward}
      - say: "We're out of time."
        score: 0
        feedback: "Cut off."
        next: lost
"""
        )
    return (
        "id: long-call\ntitle: A long call\nskill: collections-call\nsetting: contact-centre\n"
        "start: step-0\nnodes:\n" + "".join(nodes) + "  saved:\n    ending: good\n"
        '    summary: "Done."\n  lost:\n    ending: poor\n    summary: "Gone."\n'
    )


def test_a_way_through_longer_than_30_steps() -> None:
    assert yaml_problems(chain(30)) == []
    text = chain(31)
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "  step-0:",
            'the longest way through, from "step-0" to the ending "saved", takes 31 steps; a '
            "conversation takes at most 30: shorten it, or split it in two",
        )
    ]


@pytest.mark.parametrize("score", ["3", "-1"])
def test_a_score_outside_0_to_2(score: str) -> None:
    text = edited(CONVERSATION, "score: 1", f"score: {score}")
    assert yaml_problems(text) == [
        at(YAML_PATH, text, f"score: {score}", f"a score is 0, 1 or 2 (got {score})")
    ]


def test_a_score_that_is_not_a_whole_number() -> None:
    text = edited(CONVERSATION, "score: 1", "score: high")
    assert yaml_problems(text) == [
        at(YAML_PATH, text, "score: high", '"score" must be a whole number (got "high")')
    ]


def test_a_node_with_one_choice_or_five() -> None:
    one = edited(
        CONVERSATION,
        """\
      - say: "The minimum is sixty, I'm afraid."
        score: 0
        feedback: "A plan he cannot keep is a fourth call next month."
        next: grudging
""",
        "",
    )
    # The mixed ending then goes unreached, too.
    assert yaml_problems(one) == [
        at(YAML_PATH, one, "    choices:", '"plan" has 1 choice(s); a node has 2 to 4', nth=4),
        at(
            YAML_PATH,
            one,
            "  grudging:",
            '"grudging" cannot be reached from the start, "open": lead a choice to it, or '
            "delete it",
        ),
    ]
    extra = (
        '      - say: "Right."\n        score: 0\n        feedback: "Flat."\n        next: lost\n'
    )
    five = edited(CONVERSATION, "  saved:\n", extra * 3 + "  saved:\n")
    assert yaml_problems(five) == [
        at(YAML_PATH, five, "    choices:", '"plan" has 5 choice(s); a node has 2 to 4', nth=4)
    ]


def test_choices_that_all_score_the_same_teach_nothing() -> None:
    text = edited(CONVERSATION, "score: 1", "score: 2")
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "    choices:",
            'every choice of "listen" scores 2: score the best line higher than the weaker ones, '
            "so there is something to learn",
            nth=2,
        )
    ]


def test_an_ending_that_is_not_good_mixed_or_poor_and_one_with_choices() -> None:
    text = edited(CONVERSATION, "ending: poor", "ending: awful")
    assert yaml_problems(text) == [
        at(YAML_PATH, text, "ending: awful", 'an ending is good, mixed or poor (got "awful")')
    ]
    text = edited(
        CONVERSATION,
        '    summary: "He hangs up. The account goes to collections."\n',
        '    summary: "He hangs up."\n    choices:\n      - say: "Hello?"\n'
        '        score: 0\n        feedback: "Gone."\n        next: lost\n',
    )
    assert yaml_problems(text) == [
        at(YAML_PATH, text, "    choices:", '"lost" is an ending, so it has no choices', nth=5)
    ]


def test_unknown_fields_and_a_node_id_that_is_not_an_id() -> None:
    text = edited(CONVERSATION, "    cue: angry\n", "    mood: angry\n")
    text = edited(text, "  grudging:", "  Grudging Yes:")
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "mood: angry",
            'unknown field "mood" (known: choices, cue, customer, ending, summary)',
        ),
        at(
            YAML_PATH,
            text,
            "next: grudging",
            'the choice leads to "grudging", a node that does not exist (nodes: "open", '
            '"listen", "angry", "plan", "saved", "lost")',
        ),
        at(
            YAML_PATH,
            text,
            "Grudging Yes:",
            "a node id is lowercase letters, digits and dashes, at most 120 characters "
            '(got "Grudging Yes")',
        ),
    ]


# --- each rule, Twee ---------------------------------------------------------------------------


SIDE_OF_THE_TABLE = "You own the tone and come back to his side of the table.\n[[plan]]"
BROKEN_LINK = SIDE_OF_THE_TABLE.replace("[[plan]]", "[[plam]]")


def test_twee_a_link_to_a_passage_that_does_not_exist() -> None:
    text = edited(TWEE, SIDE_OF_THE_TABLE, BROKEN_LINK)
    assert twee_problems(text) == [
        at(
            TWEE_PATH,
            text,
            "[[plam]]",
            'the choice leads to "plam", a node that does not exist (nodes: "open", "listen", '
            '"angry", "plan", "saved", "grudging", "lost")',
        )
    ]
    text = edited(TWEE, "->plan-sixty]]", "->plan-sixy]]")
    assert at(
        TWEE_PATH,
        text,
        "->plan-sixy]]",
        'the choice leads to "plan-sixy", a passage that does not exist',
    ) in twee_problems(text)


def test_twee_a_passage_name_used_twice() -> None:
    text = edited(TWEE, ":: lost [ending-poor]", ":: saved [ending-poor]")
    assert at(
        TWEE_PATH,
        text,
        ":: saved [ending-poor]",
        f'the passage name "saved" is used twice (first on line '
        f"{line_of(text, ':: saved [ending-good]')}); give each passage its own",
    ) in twee_problems(text)


def test_twee_scores_are_tags_of_reply_passages() -> None:
    text = edited(TWEE, ":: listen-how [score-1]", ":: listen-how [score-3]")
    assert twee_problems(text) == [
        at(TWEE_PATH, text, ":: listen-how", "a score is 0, 1 or 2 (got 3)")
    ]
    text = edited(TWEE, ":: listen-how [score-1]", ":: listen-how")
    assert at(
        TWEE_PATH,
        text,
        "[[listen-how<-",
        "a choice leads to a reply passage, tagged score-0, score-1 or score-2, whose text is "
        'the feedback; "listen-how" has no score tag',
    ) in twee_problems(text)


def test_twee_a_reply_leads_to_exactly_one_passage() -> None:
    text = edited(TWEE, "[[grudging]]", "[[grudging]] or [[saved]]")
    assert twee_problems(text) == [
        at(
            TWEE_PATH,
            text,
            ":: plan-sixty",
            'the reply "plan-sixty" has 2 links; it has one, to what the customer says next',
        )
    ]


def test_twee_unreached_nodes_replies_and_no_good_ending() -> None:
    text = edited(TWEE, ":: saved [ending-good]", ":: saved [ending-mixed]")
    text = edited(text, "[[You are 45 days past due. We need a payment today.->open-blunt]]\n", "")
    assert twee_problems(text) == [
        "lessons/conversations/third-late-payment.twee:1: no good ending: a conversation "
        'needs at least one node with "ending: good"',
        at(TWEE_PATH, text, "[[Good afternoon", '"open" has 1 choice(s); a node has 2 to 4'),
        at(
            TWEE_PATH,
            text,
            ":: open-blunt",
            'no choice leads to the reply "open-blunt": link a choice to it, or delete it',
        ),
        at(
            TWEE_PATH,
            text,
            ":: angry",
            '"angry" cannot be reached from the start, "open": lead a choice to it, or delete it',
        ),
        at(
            TWEE_PATH,
            text,
            ":: lost",
            '"lost" cannot be reached from the start, "open": lead a choice to it, or delete it',
        ),
    ]


def test_twee_story_data_names_the_start_and_node_names_are_ids() -> None:
    text = edited(TWEE, '  "start": "open",\n', "")
    assert twee_problems(text) == [
        at(
            TWEE_PATH,
            text,
            ":: StoryData",
            '"StoryData" must be JSON naming the "start" passage, as Twine writes it',
        )
    ]
    text = edited(TWEE, ":: grudging [ending-mixed]", ":: Grudging yes [ending-mixed]")
    assert at(
        TWEE_PATH,
        text,
        ":: Grudging yes",
        'the passage name "Grudging yes" is not an id: name each node with lowercase letters, '
        "digits and dashes, at most 120 characters",
    ) in twee_problems(text)


def test_twee_a_loop_without_an_ending_and_an_ending_with_a_link() -> None:
    text = edited(
        TWEE,
        "A plan he cannot keep is a fourth call next month.\n[[grudging]]",
        "A plan he cannot keep is a fourth call next month.\n[[plan]]",
    )
    text = edited(
        text,
        "A plan he chose, confirmed in writing: he is likely to keep it.\n[[saved]]",
        "A plan he chose, confirmed in writing: he is likely to keep it.\n[[plan]]",
    )
    problems = twee_problems(text)
    assert (
        at(
            TWEE_PATH,
            text,
            ":: plan",
            '"plan" only leads back to itself, a loop that never reaches an ending: give it a '
            "choice that leads on to an ending",
            nth=1,
        )
        in problems
    )
    text = edited(TWEE, "He hangs up. The account goes to collections.", "He hangs up. [[open]]")
    assert twee_problems(text) == [
        at(TWEE_PATH, text, "He hangs up. [[open]]", '"lost" is an ending, so it has no links')
    ]


def test_twee_text_before_the_first_passage_and_a_missing_settings_passage() -> None:
    text = "Notes to self\n" + edited(
        TWEE,
        '\n:: Conversation {"position":"100,50","size":"100,100"}\n'
        "skill: collections-call\nsetting: contact-centre\n",
        "",
    )
    assert twee_problems(text) == [
        f'{TWEE_PATH}:1: no "Conversation" passage with the "skill:" and "setting:" lines',
        f'{TWEE_PATH}:1: text before the first passage (":: name") belongs to none',
    ]


def test_twee_a_bad_story_data_nested_deep_is_a_problem_not_a_crash() -> None:
    text = edited(TWEE, '  "zoom": 1\n', '  "zoom": ' + "[" * 100_000 + "]" * 100_000 + "\n")
    assert at(
        TWEE_PATH,
        text,
        ":: StoryData",
        '"StoryData" must be JSON naming the "start" passage, as Twine writes it',
    ) in twee_problems(text)


# --- bounded whatever the file -------------------------------------------------------------------


def test_a_conversation_of_tangled_loops_is_refused_quickly() -> None:
    """Every node leads to two others and back: more ways through than the check follows."""
    names = [f"n{i}" for i in range(40)]
    nodes = []
    for i, name in enumerate(names):
        choices = "".join(
            f'      - say: "Line {k}."\n        score: {k % 3}\n        feedback: "So so."\n'
            f"        next: {target}\n"
            for k, target in enumerate(
                [names[(i + 1) % 40], names[(i + 7) % 40], names[(i + 13) % 40], "saved"]
            )
        )
        nodes.append(f'  {name}:\n    customer: "Well?"\n    choices:\n{choices}')
    text = (
        "id: tangle\ntitle: Tangle\nskill: collections-call\nsetting: contact-centre\nstart: n0\n"
        "nodes:\n" + "".join(nodes) + '  saved:\n    ending: good\n    summary: "Done."\n'
    )
    # Unbounded, the search would follow billions of ways; this returns in a few seconds.
    assert yaml_problems(text) == [
        at(
            YAML_PATH,
            text,
            "  n0:",
            f"this conversation's loops make more than {MAX_ROUTES_EXPLORED:,} ways through it "
            "to check; take out a loop",
        )
    ]


def test_thousands_of_nodes_in_a_row_are_checked_without_recursion() -> None:
    """Deeper than Python's recursion limit; a Twee file has no limit on values."""
    passages = [
        ':: StoryTitle\nA long call\n\n:: StoryData\n{"start": "n0"}\n\n'
        ":: Conversation\nskill: collections-call\nsetting: contact-centre\n\n"
        ":: saved [ending-good]\nDone.\n\n:: lost [ending-poor]\nGone.\n\n"
    ]
    for n in range(3000):
        onward = f"n{n + 1}" if n + 1 < 3000 else "saved"
        passages.append(
            f":: n{n}\nAnd?\n[[Go on.->n{n}-on]]\n[[Bye.->n{n}-off]]\n\n"
            f":: n{n}-on [score-2]\nGood.\n[[{onward}]]\n\n"
            f":: n{n}-off [score-0]\nCut off.\n[[lost]]\n\n"
        )
    text = "".join(passages)
    assert len(text.encode()) < 1_000_000  # a file the library would read
    assert twee_problems(text) == [
        at(
            TWEE_PATH,
            text,
            ":: n0",
            'the longest way through, from "n0" to the ending "saved", takes 3000 steps; a '
            "conversation takes at most 30: shorten it, or split it in two",
        )
    ]


# --- in the library ----------------------------------------------------------------------------


def conversation_library(root: Path, files: dict[str, str | None]) -> Path:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    return write_library(root, files)


LESSON_WITH_CONVERSATION = edited(
    LESSON, "quiz: greeting\n", "quiz: greeting\nconversation: third-late-payment\n"
)


def test_a_lesson_names_its_conversation(tmp_path) -> None:
    library = load_library(
        conversation_library(
            tmp_path,
            {LESSON_PATH: LESSON_WITH_CONVERSATION, YAML_PATH: CONVERSATION},
        )
    )
    assert library.problems == []
    assert library.lessons["greeting"].conversation == "third-late-payment"
    assert list(library.conversations) == ["third-late-payment"]


def test_a_lesson_naming_an_unknown_conversation(tmp_path) -> None:
    library = load_library(conversation_library(tmp_path, {LESSON_PATH: LESSON_WITH_CONVERSATION}))
    assert [str(p) for p in library.problems] == [
        f"{LESSON_PATH}:{line_of(LESSON_WITH_CONVERSATION, 'conversation:')}: unknown "
        'conversation "third-late-payment" (no lessons/conversations/third-late-payment.yaml '
        "or lessons/conversations/third-late-payment.twee)"
    ]


def test_a_broken_conversation_is_not_also_unknown_to_its_lesson(tmp_path) -> None:
    broken = edited(CONVERSATION, "score: 1", "score: 7")
    library = load_library(
        conversation_library(tmp_path, {LESSON_PATH: LESSON_WITH_CONVERSATION, YAML_PATH: broken})
    )
    assert [str(p) for p in library.problems] == [
        at(YAML_PATH, broken, "score: 7", "a score is 0, 1 or 2 (got 7)")
    ]


def test_conversation_ids_match_their_files_and_are_used_once(tmp_path) -> None:
    library = load_library(
        conversation_library(
            tmp_path,
            {
                YAML_PATH: CONVERSATION,
                TWEE_PATH: TWEE,
                "lessons/conversations/other-call.yaml": CONVERSATION,
            },
        )
    )
    assert [str(p) for p in library.problems] == [
        'lessons/conversations/other-call.yaml:1: conversation id "third-late-payment" must '
        "match its file name",
        'lessons/conversations/third-late-payment.yaml:1: conversation id "third-late-payment" '
        "is already used by lessons/conversations/third-late-payment.twee",
    ]


def test_check_prints_each_conversations_best_possible_score(tmp_path, request) -> None:
    root = conversation_library(
        tmp_path / "content",
        {
            LESSON_PATH: LESSON_WITH_CONVERSATION,
            YAML_PATH: CONVERSATION,
            "lessons/conversations/long-call.yaml": chain(4),
        },
    )
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "OK: 1 lessons, 1 quizzes (3 items), 2 conversations, 1 paths.",
        "Best possible scores:",
        "  long-call: 8 points in 4 steps (step-0 -> step-1 -> step-2 -> step-3 -> saved)",
        "  third-late-payment: 6 points in 3 steps (open -> listen -> plan -> saved)",
    ]


def test_check_refuses_a_broken_conversation_and_still_scores_the_others(tmp_path, request):
    broken = edited(TWEE, SIDE_OF_THE_TABLE, BROKEN_LINK)
    root = conversation_library(
        tmp_path / "content",
        {TWEE_PATH: broken, "lessons/conversations/long-call.yaml": chain(2)},
    )
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        at(
            TWEE_PATH,
            broken,
            "[[plam]]",
            'the choice leads to "plam", a node that does not exist (nodes: "open", "listen", '
            '"angry", "plan", "saved", "grudging", "lost")',
        ),
        "Best possible scores:",
        "  long-call: 4 points in 2 steps (step-0 -> step-1 -> saved)",
        "1 problem(s) found.",
    ]


# -- the guide's examples -----------------------------------------------------------------------

GUIDE = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
EXAMPLE = "lessons/conversations/son-helps-with-banking"


def guide_block(after: str, fence: str) -> str:
    """The first fenced block of kind `fence` after the text `after` in docs/authoring.md."""
    start = GUIDE.index(f"```{fence}\n", GUIDE.index(after)) + len(fence) + 4
    return GUIDE[start : GUIDE.index("\n```", start) + 1]


def test_the_guides_conversation_reads_the_same_in_yaml_and_twee() -> None:
    from_yaml, problems = parse_conversation_yaml(
        guide_block(f"`{EXAMPLE}.yaml`, the conversation", "yaml"), f"{EXAMPLE}.yaml"
    )
    assert problems == []
    from_twee, problems = parse_twee(
        guide_block(f"`{EXAMPLE}.twee` (only one", "text"), f"{EXAMPLE}.twee", from_yaml.id
    )
    assert problems == []
    assert graph(from_twee) == graph(from_yaml)
    assert (from_yaml.best.points, from_yaml.best.nodes) == (4, ["ask", "wait", "sorted"])
    assert "  son-helps-with-banking: 4 points in 2 steps (ask -> wait -> sorted)\n" in (
        guide_block("The learner's score is the points", "text")
    )


def test_the_guides_broken_conversation_gives_the_problems_it_shows() -> None:
    text = guide_block(f"`{EXAMPLE}.yaml`, the conversation", "yaml")
    text = edited(
        text, 'score: 1\n        feedback: "Honest, but', 'score: 3\n        feedback: "Honest, but'
    )
    text = edited(text, "next: friday\n  wait:", "next: fridya\n  wait:")
    text = edited(text, "ending: good", "ending: mixed")
    shown = guide_block("A conversation with three mistakes", "text").splitlines()
    assert [str(p) for p in parse_conversation_yaml(text, f"{EXAMPLE}.yaml")[1]] == shown[:-1]
    assert shown[-1] == "3 problem(s) found."


def test_the_guides_check_of_the_starter_library_with_its_examples_is_what_check_prints(
    tmp_path, request
) -> None:
    """The starter library, with the guide's lesson, quiz and conversation added and the lesson
    on the teller path, checks as the guide says."""
    root = tmp_path / "content"
    shutil.copytree(ROOT / "lessons", root / "lessons")
    shutil.copytree(ROOT / "quizzes", root / "quizzes")
    lesson = guide_block("`lessons/when-you-dont-know.md`:", "markdown")
    (root / "lessons" / "when-you-dont-know.md").write_text(lesson, encoding="utf-8")
    quiz = guide_block("`quizzes/when-you-dont-know.yaml`:", "yaml")
    (root / "quizzes" / "when-you-dont-know.yaml").write_text(quiz, encoding="utf-8")
    conversation = guide_block(f"`{EXAMPLE}.yaml`, the conversation", "yaml")
    (root / f"{EXAMPLE}.yaml").write_text(conversation, encoding="utf-8")
    paths = root / "lessons" / "paths.yaml"
    step = "      - lesson: phone-greeting-first-seconds\n        due_days: 2\n"
    paths.write_text(
        paths.read_text(encoding="utf-8").replace(
            step, step + "      - lesson: when-you-dont-know\n        due_days: 15\n", 1
        ),
        encoding="utf-8",
    )
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    shown = guide_block("well, it says what it found", "text")
    assert "$ flask --app trainer content check\n" + result.output == shown


def test_the_shipped_conversations_cover_the_starter_moments_with_room_to_go_wrong() -> None:
    library = load_library(ROOT)
    assert library.problems == []
    conversations = library.conversations
    assert len(conversations) >= 8
    assert any(c.path.endswith(".twee") for c in conversations.values())
    for conversation in conversations.values():
        decisions = [n for n in conversation.nodes.values() if not n.is_ending]
        endings = [n.ending for n in conversation.nodes.values() if n.is_ending]
        assert len(decisions) >= 6, conversation.path
        assert len(endings) >= 3, conversation.path
        assert {"good", "mixed", "poor"} <= set(endings), conversation.path
