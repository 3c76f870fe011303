"""Unit tests for the GIFT parser, over small inline GIFT strings."""

from __future__ import annotations

import pytest

from trainer.content.gift import SUPPORTED, parse_gift
from trainer.content.specs import ChoiceSpec, ItemSpec, Problem, QuizSpec

PATH = "quizzes/warm-handover.gift"


def parse(text: str, quiz_id: str = "warm-handover") -> tuple[QuizSpec, list[Problem]]:
    return parse_gift(text, PATH, quiz_id)


def only_item(text: str) -> ItemSpec:
    """The single item `text` parses to, asserting there were no problems."""
    quiz, problems = parse(text)
    assert problems == []
    assert len(quiz.items) == 1
    return quiz.items[0]


def found(text: str) -> list[tuple[int, str]]:
    """(line, message) of every problem in `text`."""
    return [(p.line, p.message) for p in parse(text)[1]]


def weights(item: ItemSpec) -> list[float]:
    return [choice.weight for choice in item.choices]


# --- the quiz -------------------------------------------------------------------------------


def test_quiz_carries_id_path_and_items() -> None:
    quiz, problems = parse("::q1:: Hi? {=a ~b}")
    assert problems == []
    assert (quiz.id, quiz.path, quiz.line) == ("warm-handover", PATH, 1)
    assert [item.id for item in quiz.items] == ["q1"]


def test_title_falls_back_to_quiz_id_with_spaces_and_capital() -> None:
    quiz, _ = parse("::q1:: Hi? {=a ~b}", quiz_id="warm-handover-basics")
    assert quiz.title == "Warm handover basics"


def test_empty_file_is_a_problem() -> None:
    assert found("") == [(1, "the file has no questions")]


def test_file_of_only_comments_is_a_problem() -> None:
    assert found("// just a note\n\n// another\n") == [(1, "the file has no questions")]


def test_problem_prints_as_path_line_message() -> None:
    _, problems = parse("Hi? {=a ~b}")
    assert str(problems[0]).startswith(f"{PATH}:1: question has no ::title::")


# --- single choice --------------------------------------------------------------------------


def test_single_choice_equals_right_tilde_wrong() -> None:
    item = only_item("::Q1:: Who greets the caller? {=The agent ~The caller ~Nobody}")
    assert item.id == "q1"
    assert item.type == "single"
    assert item.prompt == "Who greets the caller?"
    assert item.choices == [
        ChoiceSpec("The agent", 1.0, ""),
        ChoiceSpec("The caller", 0.0, ""),
        ChoiceSpec("Nobody", 0.0, ""),
    ]


def test_tilde_with_100_percent_counts_as_right() -> None:
    item = only_item("::q:: Pick {~%100%right ~wrong}")
    assert item.type == "single"
    assert weights(item) == [1.0, 0.0]
    assert item.choices[0].correct


def test_partial_weight_on_single_answer_is_kept() -> None:
    item = only_item("::q:: Pick {=best ~%50%half ~none}")
    assert item.type == "single"
    assert weights(item) == [1.0, 0.5, 0.0]


def test_negative_weight_on_single_answer_is_kept() -> None:
    item = only_item("::q:: Pick {=best ~%-50%harmful}")
    assert item.type == "single"
    assert weights(item) == [1.0, -0.5]


def test_answers_on_separate_indented_lines() -> None:
    item = only_item("::q:: Which country?\n{\n    ~India\n    =China\n    ~Korea\n}")
    assert [c.text for c in item.choices] == ["India", "China", "Korea"]
    assert weights(item) == [0.0, 1.0, 0.0]
    assert item.prompt == "Which country?"


def test_whitespace_around_prompt_answers_and_feedback_is_stripped() -> None:
    item = only_item("::q::   Hi there?   {  =  yes   #  good   ~   no   #  bad  }")
    assert item.prompt == "Hi there?"
    assert item.choices == [ChoiceSpec("yes", 1.0, "good"), ChoiceSpec("no", 0.0, "bad")]


def test_single_right_answer_below_100_percent_is_a_problem() -> None:
    assert found("::q:: Pick {~%50%half ~none}") == [
        (
            1,
            "the only right answer is worth 50%; a single-answer question needs it at 100%",
        )
    ]


# --- multiple answers -----------------------------------------------------------------------


def test_multiple_answers_from_weights() -> None:
    item = only_item("::q:: Pick two {~%50%a ~%50%b ~%-100%c}")
    assert item.type == "multiple"
    assert weights(item) == [0.5, 0.5, -1.0]


def test_decimal_weights_within_tolerance() -> None:
    item = only_item("::q:: Pick three {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
    assert item.type == "multiple"
    assert weights(item) == pytest.approx([0.3333333, 0.3333333, 0.3333333, -1.0])


def test_negative_decimal_weight() -> None:
    item = only_item("::q:: Pick {~%50%a ~%50%b ~%-33.5%c}")
    assert weights(item) == [0.5, 0.5, -0.335]


def test_weights_just_off_100_within_one_percent_pass() -> None:
    item = only_item("::q:: Pick {~%50%a ~%49.5%b ~c}")
    assert item.type == "multiple"


def test_weights_not_summing_to_100_is_a_problem() -> None:
    assert found("::q:: Pick\n{~%50%a ~%30%b ~c}") == [
        (
            2,
            "the right answers' weights add up to 80%, not 100%; for several right answers "
            "give each a share, like ~%50% and ~%50%",
        )
    ]


def test_two_equals_answers_with_a_wrong_one_sum_to_200() -> None:
    problems = found("::q:: Pick {=a =b ~c}")
    assert len(problems) == 1
    assert problems[0][1].startswith("the right answers' weights add up to 200%, not 100%")


def test_no_right_answer_is_a_problem() -> None:
    assert found("::q:: Pick {~a ~b ~%-50%c}") == [
        (1, 'no right answer: mark one with "=" or give answers positive weights')
    ]


def test_weight_outside_range_is_a_problem() -> None:
    assert found("::q:: Pick {~%150%a\n~b}") == [(1, "weight %150% is outside -100% to 100%")]


def test_weight_that_is_not_a_number_is_a_problem() -> None:
    assert found("::q:: Pick {=a\n~%lots%b}") == [(2, 'weight "%lots%" is not a number')]


def test_multiple_choice_needs_two_choices() -> None:
    assert found("::q:: Pick {~%100%only}") == [
        (1, "a multiple-choice question needs at least 2 answers; it has 1")
    ]


def test_a_question_with_more_than_100_answers_is_a_problem() -> None:
    answers = " ".join(f"~wrong {n}" for n in range(100))
    assert found(f"::q:: Pick {{=right {answers}}}") == [
        (1, "a question may have at most 100 answers; this one has 101")
    ]


def test_empty_answer_is_a_problem() -> None:
    assert found("::q:: Pick {=a\n~ }") == [(2, 'empty answer after "~"')]


def test_text_before_first_answer_is_a_problem() -> None:
    assert found("::q:: Pick {\noops =a ~b}") == [
        (2, 'unexpected text "oops" before the first answer; answers start with "=" or "~"')
    ]


def test_block_without_answer_markers_is_a_problem() -> None:
    assert found("::q:: Pick {maybe}") == [
        (
            1,
            'cannot read the answer block: answers start with "=" (right) or "~" (wrong), '
            "and true/false is written {T} or {F}",
        )
    ]


# --- feedback -------------------------------------------------------------------------------


def test_answer_feedback() -> None:
    item = only_item("::q:: Pick {=yes #Right, good. ~no #Wrong, it's yes.}")
    assert [c.feedback for c in item.choices] == ["Right, good.", "Wrong, it's yes."]


def test_general_feedback_after_answers() -> None:
    item = only_item("::q:: Pick {=yes #fine ~no ####Always say yes.}")
    assert item.explanation == "Always say yes."
    assert item.choices == [ChoiceSpec("yes", 1.0, "fine"), ChoiceSpec("no", 0.0, "")]


def test_general_feedback_on_its_own_line() -> None:
    item = only_item("::q:: Pick {\n=yes\n~no\n####  Because.\n}")
    assert item.explanation == "Because."
    assert [c.text for c in item.choices] == ["yes", "no"]


def test_no_general_feedback_means_empty_explanation() -> None:
    assert only_item("::q:: Pick {=yes ~no}").explanation == ""


def test_general_feedback_before_answers_is_a_problem() -> None:
    assert found("::q:: Pick {\n####Because. =yes ~no}") == [
        (2, 'general feedback "####" must come after all the answers')
    ]


# --- formats of answers and feedback, as Moodle writes them ---------------------------------


def test_an_answer_and_its_feedback_keep_their_own_format_tags() -> None:
    item = only_item(
        "::q:: Pick one {\n"
        "=[html]<b>Yes</b>#[plain]Plain *stars*\n"
        "~No#[html]<em>Nope</em>\n"
        "~%50%[plain]Half *way*\n"
        "####[html]<p>Because.</p>\n"
        "}"
    )
    assert item.text_format == "markdown"
    assert item.choices == [
        ChoiceSpec("<b>Yes</b>", 1.0, "Plain *stars*", "html", "plain"),
        ChoiceSpec("No", 0.0, "<em>Nope</em>", None, "html"),
        ChoiceSpec("Half *way*", 0.5, "", "plain", None),
    ]
    assert (item.explanation, item.explanation_format) == ("<p>Because.</p>", "html")


def test_answers_without_a_tag_are_in_the_questions_format() -> None:
    item = only_item("::q::[html] <p>Pick</p> {=<b>a</b>#<i>x</i> ~b ####<p>Why</p>}")
    assert [(c.text_format, c.feedback_format) for c in item.choices] == [(None, None)] * 2
    assert item.explanation_format is None


def test_true_false_feedbacks_keep_their_own_format_tags() -> None:
    item = only_item("::q:: Sky is blue. {T#[html]<b>wrong</b>#[plain]right ####[plain]*so*}")
    assert [(c.feedback, c.feedback_format) for c in item.choices] == [
        ("right", "plain"),
        ("<b>wrong</b>", "html"),
    ]
    assert (item.explanation, item.explanation_format) == ("*so*", "plain")


def test_a_bracketed_word_at_the_start_of_an_answer_is_text_as_in_moodle() -> None:
    item = only_item("::q:: What do you do? {=[Smiles] Hello! ~[Keeps typing]}")
    assert [(c.text, c.text_format) for c in item.choices] == [
        ("[Smiles] Hello!", None),
        ("[Keeps typing]", None),
    ]


def test_an_answer_that_is_only_a_format_tag_is_empty() -> None:
    assert found("::q:: Pick {=[html] ~b}") == [(1, 'empty answer after "="')]


# --- true/false -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "truth"),
    [("T", True), ("TRUE", True), ("t", True), ("True", True)]
    + [("F", False), ("FALSE", False), ("f", False), ("false", False)],
)
def test_true_false_keywords(block: str, truth: bool) -> None:
    item = only_item(f"::q:: The sky is blue. {{{block}}}")
    assert item.type == "truefalse"
    assert [c.text for c in item.choices] == ["True", "False"]
    assert weights(item) == ([1.0, 0.0] if truth else [0.0, 1.0])


def test_true_false_first_feedback_is_for_wrong_answer_when_true() -> None:
    item = only_item("::q:: Sky is blue. {T#No, look up.#Yes, well done.}")
    assert item.choices == [
        ChoiceSpec("True", 1.0, "Yes, well done."),
        ChoiceSpec("False", 0.0, "No, look up."),
    ]


def test_true_false_first_feedback_is_for_wrong_answer_when_false() -> None:
    item = only_item("::q:: Sky is green. {FALSE #No, it is blue. #Right, it is blue.}")
    assert item.choices == [
        ChoiceSpec("True", 0.0, "No, it is blue."),
        ChoiceSpec("False", 1.0, "Right, it is blue."),
    ]


def test_true_false_single_feedback_goes_to_wrong_choice() -> None:
    item = only_item("::q:: Sky is blue. {T#Look up.}")
    assert item.choices == [ChoiceSpec("True", 1.0, ""), ChoiceSpec("False", 0.0, "Look up.")]


def test_true_false_with_general_feedback() -> None:
    item = only_item("::q:: Sky is green. {F#wrong#right####Rayleigh scattering.}")
    assert item.explanation == "Rayleigh scattering."
    assert [c.feedback for c in item.choices] == ["wrong", "right"]


def test_true_false_with_only_general_feedback() -> None:
    item = only_item("::q:: Sky is blue. {TRUE####Rayleigh scattering.}")
    assert item.explanation == "Rayleigh scattering."
    assert [c.feedback for c in item.choices] == ["", ""]


def test_true_false_with_empty_feedback() -> None:
    item = only_item("::q:: Sky is blue. {T#}")
    assert [c.feedback for c in item.choices] == ["", ""]


def test_true_false_with_three_feedbacks_is_a_problem() -> None:
    assert found("::q:: Sky is blue.\n{T#a#b#c}") == [
        (
            2,
            'a true/false answer takes at most two "#" feedbacks (first for a wrong answer, '
            "second for a right one); this one has 3",
        )
    ]


# --- missing word ---------------------------------------------------------------------------


def test_missing_word_puts_blank_where_block_was() -> None:
    item = only_item("::q:: Greet the caller {=warmly ~coldly} every time.")
    assert item.type == "single"
    assert item.prompt == "Greet the caller _____ every time."
    assert weights(item) == [1.0, 0.0]


def test_missing_word_at_start() -> None:
    item = only_item("::q:: {=Listening ~Talking} is the first step.")
    assert item.prompt == "_____ is the first step."


def test_missing_word_multiple_answers() -> None:
    item = only_item("::q:: Be {~%50%calm ~%50%clear ~%-100%curt} on the phone.")
    assert item.type == "multiple"
    assert item.prompt == "Be _____ on the phone."


def test_block_at_end_adds_no_blank() -> None:
    assert only_item("::q:: Greet how? {=warmly ~coldly}\n").prompt == "Greet how?"


def test_question_with_no_text_is_a_problem() -> None:
    assert found("::q:: {=a ~b}") == [(1, "question has no text, only an answer block")]


# --- multi-line questions, separators, comments -----------------------------------------------


def test_multi_line_prompt_keeps_internal_newlines() -> None:
    item = only_item("::q::\nFirst line\nsecond line\n{=a ~b}")
    assert item.prompt == "First line\nsecond line"


def test_item_line_is_the_question_start() -> None:
    quiz, _ = parse("// header\n\n::a:: One {=x ~y}\n\n\n::b::\nTwo\n{=x ~y}")
    assert [(item.id, item.line) for item in quiz.items] == [("a", 3), ("b", 6)]


def test_several_blank_lines_separate_questions() -> None:
    quiz, problems = parse("::a:: One {=x ~y}\n\n\n\n::b:: Two {=x ~y}\n")
    assert problems == []
    assert [item.id for item in quiz.items] == ["a", "b"]


def test_whitespace_only_line_separates_questions() -> None:
    quiz, problems = parse("::a:: One {=x ~y}\n   \t\n::b:: Two {=x ~y}")
    assert problems == []
    assert [item.id for item in quiz.items] == ["a", "b"]


def test_comment_lines_are_ignored() -> None:
    item = only_item("// a comment\n  // indented comment\n::q:: Hi? {=a ~b}")
    assert (item.prompt, item.line) == ("Hi?", 3)


def test_comment_inside_question_is_dropped_without_splitting_it() -> None:
    item = only_item("::q:: Hi?\n// the answers\n{=a ~b}")
    assert item.prompt == "Hi?"
    assert [c.text for c in item.choices] == ["a", "b"]


def test_double_slash_inside_a_line_is_text() -> None:
    assert only_item("::q:: See https://example.com {=a ~b}").prompt == ("See https://example.com")


# --- titles and ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "item_id"),
    [
        ("Q1", "q1"),
        ("Warm handover", "warm-handover"),
        ("warm_handover_2", "warm-handover-2"),
        ("What's next?", "whats-next"),
        ("  Spaced   out  ", "spaced-out"),
        ("Café order", "cafe-order"),
        ("already-an-id", "already-an-id"),
    ],
)
def test_title_is_normalised_to_id(title: str, item_id: str) -> None:
    assert only_item(f"::{title}:: Hi? {{=a ~b}}").id == item_id


def test_untitled_question_is_a_problem_and_not_an_item() -> None:
    quiz, problems = parse("::ok:: Fine {=a ~b}\n\nNo title here {=a ~b}")
    assert [item.id for item in quiz.items] == ["ok"]
    assert [(p.line, p.message) for p in problems] == [
        (
            3,
            "question has no ::title::; the title is the item's id and keeps learners' history",
        )
    ]


def test_duplicate_id_reported_at_second_question() -> None:
    quiz, problems = parse("::Greet:: One {=a ~b}\n\n::greet:: Two {=a ~b}")
    assert [(item.id, item.prompt) for item in quiz.items] == [("greet", "One")]
    assert [(p.line, p.message) for p in problems] == [
        (3, 'duplicate id "greet": the question on line 1 already has this title')
    ]


def test_duplicate_id_found_even_when_first_question_is_broken() -> None:
    assert found("::greet:: One {=a\n\n::greet:: Two {=a ~b}") == [
        (1, 'unclosed "{": the answer block opened here is never closed'),
        (3, 'duplicate id "greet": the question on line 1 already has this title'),
    ]


def test_title_with_no_letters_or_digits_is_a_problem() -> None:
    assert found("::???:: Hi? {=a ~b}") == [
        (1, 'title "???" has no letters or digits to make an id from')
    ]


def test_unclosed_title_is_a_problem() -> None:
    assert found("::q1 Hi? {=a ~b}") == [
        (1, 'the title opened with "::" is never closed with "::"')
    ]


# --- formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "text_format"),
    [
        ("[markdown]", "markdown"),
        ("[html]", "html"),
        ("[plain]", "plain"),
        ("[moodle]", "plain"),
        ("[HTML]", "html"),
    ],
)
def test_format_tag_after_title(tag: str, text_format: str) -> None:
    item = only_item(f"::q:: {tag}Hi <b>there</b>? {{=a ~b}}")
    assert item.text_format == text_format
    assert item.prompt == "Hi <b>there</b>?"


def test_default_format_is_markdown() -> None:
    assert only_item("::q:: Hi? {=a ~b}").text_format == "markdown"


def test_format_tag_on_next_line_after_title() -> None:
    item = only_item("::q::\n[html]\n<p>Hi?</p>\n{=a ~b}")
    assert (item.text_format, item.prompt) == ("html", "<p>Hi?</p>")


def test_format_tag_at_start_of_untitled_question() -> None:
    quiz, problems = parse("[html]Hi? {=a ~b}")
    assert quiz.items == []
    assert [p.message for p in problems] == [
        "question has no ::title::; the title is the item's id and keeps learners' history"
    ]


def test_unknown_format_tag_is_a_problem() -> None:
    assert found("::q::\n[xyz] Hi? {=a ~b}") == [
        (2, 'unknown format tag "[xyz]"; use [markdown], [html], [plain] or [moodle]')
    ]


def test_bracket_later_in_prompt_is_text() -> None:
    assert only_item("::q:: Hi [xyz]? {=a ~b}").prompt == "Hi [xyz]?"


# --- categories -----------------------------------------------------------------------------


def test_category_applies_to_following_items_and_names_quiz() -> None:
    quiz, problems = parse(
        "::a:: Before {=x ~y}\n\n"
        "$CATEGORY: $course$/Frontline/Warm handover\n\n"
        "::b:: After {=x ~y}\n\n"
        "::c:: Also after {=x ~y}"
    )
    assert problems == []
    assert [(item.id, item.category) for item in quiz.items] == [
        ("a", ""),
        ("b", "$course$/Frontline/Warm handover"),
        ("c", "$course$/Frontline/Warm handover"),
    ]
    assert quiz.title == "Warm handover"


def test_last_category_gives_quiz_title() -> None:
    quiz, _ = parse(
        "$CATEGORY: $course$/Frontline/Greeting\n\n::a:: A {=x ~y}\n\n"
        "$CATEGORY: $course$/Frontline/Closing\n\n::b:: B {=x ~y}"
    )
    assert quiz.title == "Closing"
    assert [item.category for item in quiz.items] == [
        "$course$/Frontline/Greeting",
        "$course$/Frontline/Closing",
    ]


def test_category_line_directly_above_question() -> None:
    quiz, problems = parse("$CATEGORY: Frontline/Calls\n::a:: A {=x ~y}")
    assert problems == []
    assert (quiz.items[0].category, quiz.items[0].line) == ("Frontline/Calls", 2)


def test_category_of_only_moodle_token_falls_back_to_quiz_id() -> None:
    quiz, _ = parse("$CATEGORY: $course$\n\n::a:: A {=x ~y}")
    assert quiz.title == "Warm handover"


def test_category_longer_than_its_column_is_a_problem() -> None:
    category = "$course$/" + "a" * 192
    assert found(f"$CATEGORY: {category}\n\n::a:: A {{=x ~y}}") == [
        (1, "the category path is 201 characters long; at most 200 fit")
    ]


def test_title_making_an_id_longer_than_its_column_is_a_problem() -> None:
    title = "word " * 24 + "words"
    assert found(f"::{title}:: A {{=x ~y}}") == [
        (1, "the id made from this title is 125 characters long; at most 120 fit")
    ]


def test_empty_category_is_a_problem() -> None:
    assert found("$CATEGORY:\n\n::a:: A {=x ~y}") == [
        (1, '"$CATEGORY:" has no category path after it')
    ]


# --- escapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["~", "=", "#", "{", "}", ":"])
def test_escape_in_prompt_gives_literal_character(char: str) -> None:
    item = only_item(f"::q:: a \\{char} b {{=x ~y}}")
    assert item.prompt == f"a {char} b"


@pytest.mark.parametrize("char", ["~", "=", "#", "{", "}", ":"])
def test_escape_in_answer_gives_literal_character(char: str) -> None:
    item = only_item(f"::q:: Pick {{=a \\{char} b ~c}}")
    assert [c.text for c in item.choices] == [f"a {char} b", "c"]


@pytest.mark.parametrize("char", ["~", "=", "#", "{", "}", ":"])
def test_escape_in_feedback_gives_literal_character(char: str) -> None:
    item = only_item(f"::q:: Pick {{=a #x \\{char} y ~c}}")
    assert item.choices[0].feedback == f"x {char} y"


@pytest.mark.parametrize("tag", ["[plain]", "[html]", "[moodle]"])
def test_escaped_backslash_is_one_backslash(tag: str) -> None:
    assert only_item(f"::q::{tag} C:\\\\temp {{=a ~b}}").prompt == "C:\\temp"


def test_escaped_backslash_stays_a_markdown_escape_in_markdown() -> None:
    # Markdown reads "\\*" as "*": one backslash on the page is written "\\\\" there.
    item = only_item("::q:: Type \\\\* {=a \\\\ b #c \\\\ d ~e ####f \\\\ g}")
    assert item.prompt == "Type \\\\*"
    assert (item.choices[0].text, item.choices[0].feedback) == ("a \\\\ b", "c \\\\ d")
    assert item.explanation == "f \\\\ g"


def test_escaped_backslash_does_not_escape_following_brace() -> None:
    item = only_item("::q::[plain] Ends with \\\\{=a ~b}")
    assert item.prompt == "Ends with \\"
    assert [c.text for c in item.choices] == ["a", "b"]


def test_escaped_n_is_a_newline() -> None:
    assert only_item("::q:: One\\n\\nTwo {=a ~b}").prompt == "One\n\nTwo"


def test_escaped_n_in_feedback_is_a_newline() -> None:
    item = only_item("::q:: Pick {=a #line one\\nline two ~b}")
    assert item.choices[0].feedback == "line one\nline two"


def test_unknown_escape_keeps_backslash() -> None:
    assert only_item("::q:: Math \\(x\\) {=a ~b}").prompt == "Math \\(x\\)"


def test_escaped_colons_in_title() -> None:
    assert only_item("::Time 10\\:30:: When? {=a ~b}").id == "time-1030"


def test_escaped_equals_in_prompt_is_not_an_answer() -> None:
    item = only_item("::q:: 1 + 1 \\= ? {=2 ~3}")
    assert item.prompt == "1 + 1 = ?"
    assert [c.text for c in item.choices] == ["2", "3"]


def test_escaped_braces_in_prompt_do_not_open_a_block() -> None:
    item = only_item("::q:: Use \\{name\\} here {=ok ~no}")
    assert item.prompt == "Use {name} here"


def test_escaped_hash_in_general_feedback() -> None:
    item = only_item("::q:: Pick {=a ~b ####Ticket \\#42.}")
    assert item.explanation == "Ticket #42."


# --- unsupported question types ---------------------------------------------------------------


def test_short_answer_is_reported() -> None:
    assert found("::a:: ok {=x ~y}\n\n::q:: Who?\n{=Grant =grant}") == [
        (
            4,
            'GIFT short answer questions (only "=" answers, no "~") are not supported; '
            f"{SUPPORTED}",
        )
    ]


def test_single_equals_answer_is_short_answer() -> None:
    assert found("::q:: Two plus {=two} equals four.") == [
        (
            1,
            'GIFT short answer questions (only "=" answers, no "~") are not supported; '
            f"{SUPPORTED}",
        )
    ]


def test_matching_is_reported_at_its_line() -> None:
    assert found("::q:: Match them {\n=cat -> cat food\n=dog -> dog food\n}") == [
        (2, f'GIFT matching questions are not supported (item "cat"); {SUPPORTED}')
    ]


def test_numerical_is_reported() -> None:
    assert found("// numbers\n::q:: A number from 1 to 5?\n{#3:2}") == [
        (3, f'GIFT numerical questions ("{{#...}}") are not supported; {SUPPORTED}')
    ]


def test_numerical_range_with_feedback_is_reported() -> None:
    assert found("::q:: When? {#\n=1822:0 #Right\n=%50%1822:2 #Close\n}") == [
        (1, f'GIFT numerical questions ("{{#...}}") are not supported; {SUPPORTED}')
    ]


def test_essay_is_reported() -> None:
    assert found("\n\n::q:: How are you? {}") == [
        (3, f'GIFT essay questions ("{{}}") are not supported; {SUPPORTED}')
    ]


def test_essay_with_general_feedback_is_reported() -> None:
    assert found("::q:: How are you? {\n####We hope well.\n}") == [
        (1, f'GIFT essay questions ("{{}}") are not supported; {SUPPORTED}')
    ]


def test_description_without_answer_block_is_reported() -> None:
    assert found("::a:: ok {=x ~y}\n\n::intro:: Read this first.\nIt matters.") == [
        (
            3,
            'question has no answer block {...}; text without answers is a GIFT "description", '
            f"which is not supported; {SUPPORTED}",
        )
    ]


def test_unsupported_question_is_not_an_item() -> None:
    quiz, _ = parse("::a:: ok {=x ~y}\n\n::b:: Who? {=Grant}")
    assert [item.id for item in quiz.items] == ["a"]


# --- braces ---------------------------------------------------------------------------------


def test_unclosed_brace_is_reported_at_its_line() -> None:
    quiz, problems = parse("::a:: Hi\nthere {\n=x\n~y\n\n::b:: Next {=x ~y}")
    assert [(p.line, p.message) for p in problems] == [
        (2, 'unclosed "{": the answer block opened here is never closed')
    ]
    assert [item.id for item in quiz.items] == ["b"]


def test_brace_reopened_before_close_is_unclosed() -> None:
    assert found("::a:: Hi {=x ~y\nmore {=z ~w}") == [
        (1, 'unclosed "{": the answer block opened here is never closed')
    ]


def test_stray_closing_brace_before_block() -> None:
    assert found("::a:: Hi }\nthere {=x ~y}") == [
        (1, 'stray "}": there is no "{" before it to close')
    ]


def test_stray_closing_brace_after_block() -> None:
    assert found("::a:: Hi {=x ~y}\nthere }") == [
        (2, 'stray "}": there is no "{" before it to close')
    ]


def test_stray_closing_brace_in_description() -> None:
    assert found("::a:: Hi }") == [
        (1, 'stray "}": there is no "{" before it to close'),
        (
            1,
            'question has no answer block {...}; text without answers is a GIFT "description", '
            f"which is not supported; {SUPPORTED}",
        ),
    ]


def test_second_answer_block_is_a_problem() -> None:
    assert found("::a:: Hi {=x ~y}\nand {=z ~w}") == [
        (2, 'a second answer block "{": a question may have only one')
    ]


# --- line endings, BOM, robustness ----------------------------------------------------------


def test_windows_line_endings() -> None:
    quiz, problems = parse("// c\r\n::a::\r\nLine one\r\nLine two {=x ~y}\r\n\r\n::b:: B {T}\r\n")
    assert problems == []
    assert [(item.id, item.line) for item in quiz.items] == [("a", 2), ("b", 6)]
    assert quiz.items[0].prompt == "Line one\nLine two"


def test_windows_line_endings_problem_lines() -> None:
    assert found("::a:: A {=x ~y}\r\n\r\n::b:: B\r\n{\r\n=x\r\n") == [
        (4, 'unclosed "{": the answer block opened here is never closed')
    ]


def test_old_mac_line_endings() -> None:
    quiz, problems = parse("::a:: A {=x ~y}\r\r::b:: B {F}")
    assert problems == []
    assert [item.line for item in quiz.items] == [1, 3]


def test_utf8_bom_is_ignored() -> None:
    item = only_item("\ufeff::q:: Hi? {=a ~b}")
    assert (item.id, item.prompt) == ("q", "Hi?")


def test_all_problems_in_file_are_collected_in_line_order() -> None:
    text = (
        "::a:: Short {=x}\n\n"
        "Untitled {=x ~y}\n\n"
        "::c:: Essay {}\n\n"
        "::d:: Good {=x ~y}\n\n"
        "::e:: Match {=a -> b =c -> d}\n\n"
        "::d:: Again {=x ~y}"
    )
    quiz, problems = parse(text)
    assert [item.id for item in quiz.items] == ["d"]
    assert [p.line for p in problems] == [1, 3, 5, 9, 11]
    assert problems == sorted(problems, key=lambda p: p.line)


def test_one_question_can_have_several_problems() -> None:
    assert [line for line, _ in found("No title {~a ~b}")] == [1, 1]


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "}",
        "::",
        "::a::",
        "::a:: {",
        "{}}{",
        "\\",
        "::a:: x {=\\",
        "::a:: x {~%%a ~b}",
        "::a:: x {####}",
        "$CATEGORY: /",
        "::a:: [",
        "~=#{}:\\n",
    ],
)
def test_bad_input_never_raises_and_reports_something(text: str) -> None:
    quiz, problems = parse(text)
    assert problems
    assert quiz.items == []


def test_every_question_becomes_an_item_or_a_problem() -> None:
    questions = [
        "::a:: ok {=x ~y}",
        "::b:: short {=x}",
        "::c:: tf {T}",
        "::d:: essay {}",
        "::e:: multi {~%50%x ~%50%y}",
        "::f:: match {=x -> y =z -> w}",
        "::g:: number {#1}",
    ]
    quiz, problems = parse("\n\n".join(questions))
    reported = {p.line for p in problems}
    item_lines = {item.line for item in quiz.items}
    assert item_lines | reported == {1 + 2 * i for i in range(len(questions))}
    assert not item_lines & reported


def test_moodle_id_and_tag_markers_are_not_question_text():
    quiz, problems = parse_gift(
        "::greet-first::[markdown][id:Q-17][tag:phone] [tag:greeting]Who speaks first? "
        "{=You#Yes. ~The caller#No.}",
        "quizzes/q.gift",
        "q",
    )
    assert problems == []
    assert quiz.items[0].id == "greet-first"
    assert quiz.items[0].prompt == "Who speaks first?"


def test_moodle_exports_id_and_tags_in_a_comment_line_which_is_ignored() -> None:
    item = only_item(
        "// question: 12  name: greet-first\n"
        "// [id:Q-17] [tag:phone] [tag:greeting]\n"
        "::greet-first::[html]<p>Who speaks first?</p>{=You ~The caller}"
    )
    assert (item.id, item.prompt) == ("greet-first", "<p>Who speaks first?</p>")


def test_an_id_marker_with_an_escaped_bracket_is_not_question_text() -> None:
    assert only_item("::q:: [id:a\\]b] Who? {=x ~y}").prompt == "Who?"
