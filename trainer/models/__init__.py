"""The data model, split by domain. Import from here."""

from trainer.models.base import Base, utcnow
from trainer.models.coaching import (
    GRADES,
    Enrolment,
    Invitation,
    Observation,
    ObservationChecklist,
)
from trainer.models.content import (
    Conversation,
    Lesson,
    LibraryState,
    Path,
    PathStep,
    Quiz,
    QuizItem,
    RolePlay,
)
from trainer.models.credentials import Device, SignInCard
from trainer.models.learning import Attempt, ConversationRun, LessonRun, RolePlayAnswer
from trainer.models.messages import (
    CHANNELS,
    EMAIL,
    PUSH,
    SMS,
    Delivery,
    Notification,
    OutboxMessage,
    PushSubscription,
)
from trainer.models.people import ROLES, JobRole, JoinCode, Team, User, team_managers
from trainer.models.review import Refresher, ReviewCard, ReviewLog
from trainer.models.security import CompanyAccount, SignInCounter, UserSession

__all__ = [
    "CHANNELS",
    "EMAIL",
    "PUSH",
    "SMS",
    "Delivery",
    "PushSubscription",
    "GRADES",
    "ROLES",
    "CompanyAccount",
    "Conversation",
    "ConversationRun",
    "Device",
    "Enrolment",
    "Invitation",
    "Observation",
    "ObservationChecklist",
    "Attempt",
    "Base",
    "JobRole",
    "JoinCode",
    "Lesson",
    "LibraryState",
    "LessonRun",
    "Notification",
    "OutboxMessage",
    "Path",
    "PathStep",
    "Quiz",
    "QuizItem",
    "Refresher",
    "ReviewCard",
    "ReviewLog",
    "RolePlay",
    "RolePlayAnswer",
    "SignInCard",
    "SignInCounter",
    "Team",
    "User",
    "UserSession",
    "team_managers",
    "utcnow",
]
