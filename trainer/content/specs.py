"""What a content file says, parsed but not yet in the database.

The parsers (`lessons.py`, `quizzes.py`, `gift.py`, `paths.py`) turn files into these plain
objects and a list of `Problem`s; `sync.py` writes them to the database. Nothing here touches
Flask or SQLAlchemy, so the whole content pipeline is testable on strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ITEM_TYPES = ("single", "multiple", "truefalse")
TEXT_FORMATS = ("markdown", "html", "plain")
MAX_LESSON_MINUTES = 5
MAX_DUE_DAYS = 3650  # ten years after hire; dates far beyond overflow the learner's Today

# The longest texts the database columns hold (tests/test_content_check.py compares them with
# trainer/models); longer ones are refused by `content check` rather than by the database.
MAX_ID_LENGTH = 120  # lesson, quiz, item, role-play and path ids
MAX_ROLE_ID_LENGTH = 64
MAX_SKILL_LENGTH = 64
MAX_TITLE_LENGTH = 200  # lesson, quiz, conversation and path titles, GIFT categories
MAX_ROLE_NAME_LENGTH = 120
MAX_SKILL_NAME_LENGTH = 120
MAX_SETTING_LENGTH = 64

# Conversations (see docs/authoring.md).
ENDINGS = ("good", "mixed", "poor")
MAX_CHOICE_SCORE = 2  # a line scores 0, 1 or 2
MIN_CHOICES, MAX_CHOICES = 2, 4
MAX_CONVERSATION_STEPS = 30


MAX_MESSAGE_LENGTH = 300

# The languages a lesson may be translated into, beside its English source (see translations.py).
LANGUAGES = {"es": "Español", "pl": "Polski"}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a content file, reported as `path:line: message`.

    A message quoting a huge piece of the file keeps its start and end, where the advice is.
    """

    path: str
    line: int
    message: str

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE_LENGTH:
            half = MAX_MESSAGE_LENGTH // 2
            shortened = f"{self.message[:half]} [...] {self.message[-half:]}"
            object.__setattr__(self, "message", shortened)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class ChoiceSpec:
    text: str
    # Share of the item's credit: 1.0 for the right answer of a single-answer item; for a
    # multiple-answer item the right choices share 1.0 and wrong ones may take credit away.
    weight: float = 0.0
    feedback: str = ""
    # The format of the text and of the feedback when a GIFT answer gives its own
    # (`~[html]...`, `#[plain]...`); None: the item's.
    text_format: str | None = None
    feedback_format: str | None = None

    @property
    def correct(self) -> bool:
        return self.weight > 0


@dataclass
class ItemSpec:
    id: str
    type: str  # one of ITEM_TYPES
    prompt: str
    choices: list[ChoiceSpec]
    explanation: str = ""
    text_format: str = "markdown"  # one of TEXT_FORMATS; the prompt's, and the default of the rest
    explanation_format: str | None = None  # GIFT's `####[html]...`; None: `text_format`
    category: str = ""
    line: int = 0


@dataclass
class QuizSpec:
    id: str
    title: str
    items: list[ItemSpec]
    path: str = ""
    line: int = 1


@dataclass
class RolePlaySpec:
    id: str
    situation: str
    customer: str
    rubric: list[str]
    model_answer: str
    line: int = 0


@dataclass
class LessonSpec:
    id: str
    title: str
    skill: str
    roles: list[str]
    minutes: int
    quiz: str
    roleplays: list[RolePlaySpec]
    scenario: str  # Markdown of the "The scenario" section
    key_points: str  # Markdown of every other section
    path: str = ""
    line: int = 1
    field_lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> line
    conversation: str = ""  # a conversation id, played after the quiz


@dataclass
class ReplySpec:
    """One line the learner may say at a node, and where it leads."""

    say: str
    score: int | None  # None when the file gave none that could be read (already reported)
    feedback: str
    next: str
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # "score", "next" -> their lines


@dataclass
class NodeSpec:
    """A node of a conversation: the customer speaks and the learner chooses (a decision), or
    the conversation ends (`ending` good, mixed or poor, with its `summary`)."""

    id: str
    customer: str = ""
    cue: str = ""  # how the customer sounds
    choices: list[ReplySpec] = field(default_factory=list)
    ending: str = ""
    summary: str = ""
    line: int = 0
    lines: dict[str, int] = field(default_factory=dict)  # "ending", "choices" -> their lines

    @property
    def is_ending(self) -> bool:
        return bool(self.ending)


@dataclass
class Route:
    """A way through a conversation: its nodes from the start to an ending, and its points."""

    nodes: list[str]
    points: int

    @property
    def steps(self) -> int:
        return len(self.nodes) - 1


@dataclass
class ConversationSpec:
    id: str
    title: str
    skill: str
    setting: str
    start: str
    nodes: dict[str, NodeSpec]
    path: str = ""
    line: int = 1
    field_lines: dict[str, int] = field(default_factory=dict)
    best: Route | None = None  # the way through that scores most; set by the checks


@dataclass
class PathStepSpec:
    lesson: str
    due_days: int
    line: int = 0


@dataclass
class PathSpec:
    id: str
    title: str
    role: str
    steps: list[PathStepSpec]
    line: int = 0


@dataclass
class JobRoleSpec:
    id: str
    name: str
    line: int = 0


@dataclass
class SkillSpec:
    """A skill's name as people read it ("First impression"); lessons and conversations name
    the skill by its id."""

    id: str
    name: str
    line: int = 0


@dataclass
class PathsSpec:
    """The skills, job roles and paths of one paths file (the source or a translation)."""

    roles: dict[str, JobRoleSpec]
    paths: dict[str, PathSpec]
    path: str
    skills: dict[str, SkillSpec] = field(default_factory=dict)
    skills_line: int = 1  # where its `skills:` list starts (1 when it has none)


@dataclass
class TranslationSpec:
    """A translation file, parsed like its source; `spec` holds its words over the source's
    structure, which `content check` has compared with the source."""

    kind: str  # "lesson", "quiz", "conversation" or "paths" (its skills, roles and paths)
    key: str  # the source's id ("paths" for the paths file)
    language: str  # a key of LANGUAGES
    path: str
    spec: LessonSpec | QuizSpec | ConversationSpec | PathsSpec
    source: str = ""  # the `source:` hash as written; "" when there is none
    source_line: int = 1
    current: bool = False  # `source` is the hash of the source file as it is now


@dataclass
class Library:
    """Everything under `lessons/` (conversations in `lessons/conversations/`) and `quizzes/`,
    with the problems found on the way."""

    lessons: dict[str, LessonSpec] = field(default_factory=dict)
    quizzes: dict[str, QuizSpec] = field(default_factory=dict)
    conversations: dict[str, ConversationSpec] = field(default_factory=dict)
    paths: dict[str, PathSpec] = field(default_factory=dict)
    roles: dict[str, JobRoleSpec] = field(default_factory=dict)
    skills: dict[str, SkillSpec] = field(default_factory=dict)
    translations: list[TranslationSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Not faults of the files but things to see to (a translation behind its source);
    # `content check --strict` treats them as problems.
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
