"""One small conversation written both ways, YAML and Twee, for the parser and check tests."""

from __future__ import annotations

YAML_PATH = "lessons/conversations/third-late-payment.yaml"
TWEE_PATH = "lessons/conversations/third-late-payment.twee"

# Line numbers are part of the expected messages: tests find them with `line_of`.
CONVERSATION = """\
id: third-late-payment
title: The third call about a late payment
skill: collections-call
setting: contact-centre
start: open
nodes:
  open:
    customer: "I know, I'm late again. What do you want?"
    cue: defensive
    choices:
      - say: "Good afternoon, Mr Ortiz, it's Dana from Riverside Bank. Have you two minutes?"
        score: 2
        feedback: "Name, bank, and asking for time: he can say no, so he is more likely to say yes."
        next: listen
      - say: "You are 45 days past due. We need a payment today."
        score: 0
        feedback: "The facts are right, but opening with them starts a fight."
        next: angry
  listen:
    customer: "Go on, then. But I can't pay it all."
    choices:
      - say: "Thanks. What's made this month hard?"
        score: 2
        feedback: "An open question: he tells you what you need to build a plan."
        next: plan
      - say: "How much can you pay today?"
        score: 1
        feedback: "Fair, but it skips why he is behind."
        next: plan
  angry:
    customer: "I told the last one. My hours got cut!"
    cue: angry
    choices:
      - say: "I'm sorry, that sounds hard. Can we look at it together?"
        score: 2
        feedback: "You own the tone and come back to his side of the table."
        next: plan
      - say: "I understand, but the account is still in arrears."
        score: 0
        feedback: "'But' cancels the understanding."
        next: lost
  plan:
    customer: "I could do forty a week till it's cleared."
    choices:
      - say: "Forty a week works. I'll set it up now and send you the dates."
        score: 2
        feedback: "A plan he chose, confirmed in writing: he is likely to keep it."
        next: saved
      - say: "The minimum is sixty, I'm afraid."
        score: 0
        feedback: "A plan he cannot keep is a fourth call next month."
        next: grudging
  saved:
    ending: good
    summary: "He agrees a plan he can keep, and thanks you for asking."
  grudging:
    ending: mixed
    summary: "He agrees to sixty to end the call. You both know it won't last."
  lost:
    ending: poor
    summary: "He hangs up. The account goes to collections."
"""

TWEE = """\
:: StoryTitle
The third call about a late payment

:: StoryData
{
  "ifid": "3F1C7A52-9E1B-4E69-8F0B-7E1E4B1C2D3A",
  "format": "Harlowe",
  "format-version": "3.3.9",
  "start": "open",
  "zoom": 1
}

:: Conversation {"position":"100,50","size":"100,100"}
skill: collections-call
setting: contact-centre

:: open [cue-defensive] {"position":"100,200","size":"100,100"}
I know, I'm late again. What do you want?

[[Good afternoon, Mr Ortiz, it's Dana from Riverside Bank. Have you two minutes?->open-polite]]
[[You are 45 days past due. We need a payment today.->open-blunt]]

:: open-polite [score-2]
Name, bank, and asking for time: he can say no, so he is more likely to say yes.
[[listen]]

:: open-blunt [score-0]
The facts are right, but opening with them starts a fight.
[[angry]]

:: listen
Go on, then. But I can't pay it all.

[[Thanks. What's made this month hard?->listen-why]]
[[listen-how<-How much can you pay today?]]

:: listen-why [score-2]
An open question: he tells you what you need to build a plan.
[[Next->plan]]

:: listen-how [score-1]
Fair, but it skips why he is behind.
[[plan]]

:: angry [cue-angry]
I told the last one. My hours got cut!

[[I'm sorry, that sounds hard. Can we look at it together?|angry-sorry]]
[[I understand, but the account is still in arrears.->angry-but]]

:: angry-sorry [score-2]
You own the tone and come back to his side of the table.
[[plan]]

:: angry-but [score-0]
'But' cancels the understanding.
[[lost]]

:: plan
I could do forty a week till it's cleared.

[[Forty a week works. I'll set it up now and send you the dates.->plan-yes]]
[[The minimum is sixty, I'm afraid.->plan-sixty]]

:: plan-yes [score-2]
A plan he chose, confirmed in writing: he is likely to keep it.
[[saved]]

:: plan-sixty [score-0]
A plan he cannot keep is a fourth call next month.
[[grudging]]

:: saved [ending-good]
He agrees a plan he can keep, and thanks you for asking.

:: grudging [ending-mixed]
He agrees to sixty to end the call. You both know it won't last.

:: lost [ending-poor]
He hangs up. The account goes to collections.

:: Story Stylesheet [stylesheet]
tw-story { font-size: 120%; }
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the `nth` line containing `needle`."""
    found = [n for n, line in enumerate(text.split("\n"), start=1) if needle in line]
    assert len(found) >= nth, f"{needle!r} is not in the text {nth} time(s)"
    return found[nth - 1]
