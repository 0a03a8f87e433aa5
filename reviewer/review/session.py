"""The rules of one reviewing session, in plain Python: queue, moves, decisions, undo, reveals.

Screens only translate keys into calls on :class:`ReviewSession`; everything a
test needs to check (what was stored, where the reviewer is, how far the image
is revealed, when a break is due) is decided here, with an injected clock and
no Textual import. Each decision is written to the label store synchronously
(a ~1 ms SQLite commit, durable on return) before the session moves on, so the
screen only ever reports as saved what is on disk. A decision that cannot be
written (a full disk) raises and the reviewer stays on the item; exposure events
and the resume position are kept and retried instead (:attr:`ReviewSession.unsaved`).
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from reviewer.config import Settings
from reviewer.errors import ReviewerError
from reviewer.images.blur import RevealStep, default_step, next_step
from reviewer.review.exposure_log import ExposureLog
from reviewer.review.groups import Folding, Group, Groups, fold
from reviewer.review.queue import BREATHER_QUEUE, Queue
from reviewer.review.summary import Summary
from reviewer.review.wellbeing import BreakDue, DailyExposure, Wellbeing
from reviewer.store.labels import Decision, LabelEvent, LabelStore

HATE_SUBTAGS = ("hateful", "targeted", "aggressive")
"""Sub-tags of the ``hate`` category (pysentimiento's three labels)."""
HARMFUL_VERDICTS = ("confirm", "escalate")
"""Verdicts that mean the reviewer just judged something harmful (counts as exposure)."""
POSITION_SAVE_S = 10.0
"""Save the resume position at most this often while moving (and always at the end).

Each save is a durable SQLite commit (an fsync, 1-15 ms); doing it on every keypress
would double the cost of a move. Losing the last few seconds of *navigation* to a
crash is harmless: decisions are saved on their own, and labelled items are left out
of the next session's queue anyway.
"""


@dataclass
class _Item:
    """Per-item state: reset whenever the reviewer arrives at an item."""

    started: float = 0.0
    max_step: int = 0
    revealed_since: float | None = None
    full_since: float | None = None
    revealed: bool = False
    subtags: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class NearGroupQuestion:
    """After an escalation: whether to quarantine the escalated item's perceptual group too.

    The exact copies (same bytes) are already quarantined; a near-duplicate may be a
    different picture (a crop, another frame), so a person decides.
    """

    sample_id: str
    """The escalated item."""
    group_id: str
    """Its perceptual group (``pdq-N`` or ``clip-N``: the grouping ``g`` decides)."""
    members: tuple[str, ...]
    """Members not quarantined yet."""
    exact_copies: int
    """Exact copies quarantined with the escalation."""


@dataclass
class ReviewSession:
    """One reviewer working through one queue.

    Args:
        labels: Where decisions, exposure and positions are stored.
        reviewer: The reviewer's name.
        queue: The items, in order.
        settings: The audit settings (reveal mode, categories, wellbeing limits).
        clock: Monotonic seconds; tests pass a fake one.
        today: Exposure from earlier sessions today (for the daily cap).
        groups: Near-duplicate groups (``reviewer groups``): one representative per
            group is shown while the others wait folded behind it
            (:func:`~reviewer.review.groups.fold`); decided at once with
            :meth:`decide_group`; an escalation quarantines the exact copies.
    """

    labels: LabelStore
    reviewer: str
    queue: Queue
    settings: Settings
    clock: Callable[[], float] = time.monotonic
    today: DailyExposure = field(default_factory=DailyExposure)
    groups: Groups = field(default_factory=Groups)
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if not self.reviewer.strip():
            raise ReviewerError("reviewer name is empty", "pass --reviewer NAME")
        self.position = 0
        self.step = default_step(self.settings)
        self.category = self.settings.review.default_category
        self._category_chosen = False
        self.wellbeing = Wellbeing(self.settings.wellbeing, self.clock, self.today)
        self._opened = self.clock()
        self._item = _Item(started=self._opened)
        self._standing: dict[str, list[str]] = {}
        self._positions: dict[str, int] = {}
        self._hidden: set[str] = set()
        self._queue_ids: frozenset[str] | None = None
        """The queue's items as a set, made on first use (the queue never changes)."""
        self._propagated = 0
        self._propagated_to: dict[str, list[str]] = {}
        """Deciding item -> the group members in this queue its decision was propagated to."""
        self._folding = Folding()
        """Group members of this queue held back behind their representative."""
        self.near_question: NearGroupQuestion | None = None
        """Set by an escalation whose perceptual group has members left: ask, then answer
        with :meth:`answer_near_group`."""
        self._unrevealed = 0
        """Decisions of this session taken without revealing the image."""
        self._verdicts: Counter[str] = Counter()
        self._history: list[tuple[str, str]] = []
        """(sample id, verdict) of this session's standing decisions, oldest first."""
        self._ended = False
        self._position_saved = self._opened
        self._position_problem: str | None = None
        self.exposure_log = ExposureLog(self.labels, self.reviewer, self.session_id)

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Log the session start and resume at the saved position (first item at/after it)."""
        self.exposure_log.write("session_start")
        if self.groups.near or self.groups.exact:
            decided = self.labels.labelled_ids(self.reviewer)
            self._folding = Folding(
                fold(self.queue.ids, self.groups, decided, self.queue.breathers)
            )
        saved = self.labels.position(self.reviewer, self.queue.name)
        start = bisect.bisect_left(self.queue.ranks, saved) if saved else 0
        position = self._visible_from(start, +1)
        if position is None or position >= len(self.queue.ids):
            # The last session ended past the end (or on an item escalated since), but
            # the queue holds only items still undecided: they wait at the front.
            position = self._visible_from(0, +1)
        self.position = position or 0
        self._arrive()

    def end(self) -> Summary:
        """Close the session: log revealed time and active time, remember the position.

        Never raises: on a full disk the summary says what could not be saved.
        """
        if not self._ended:
            self._end_reveal()
            self._save_position(force=True)
            self.exposure_log.write(
                "session_end", seconds=round(self.wellbeing.session.active_seconds, 3)
            )
            self._ended = True
        return self.summary()

    def summary(self) -> Summary:
        """What the session amounted to so far."""
        return Summary(
            reviewer=self.reviewer,
            session_id=self.session_id,
            decisions=sum(self._verdicts.values()),
            verdicts=dict(self._verdicts),
            wall_seconds=self.clock() - self._opened,
            exposure=self.wellbeing.session,
            remaining=max(0, self.total - self.done),
            propagated=self._propagated,
            unrevealed=self._unrevealed,
            unsaved=self.unsaved,
        )

    @property
    def unsaved(self) -> str | None:
        """What is not saved yet because writes failed (a full disk), with why; else None.

        Kept in memory and written with the next save that succeeds.
        """
        parts = []
        if self.exposure_log.unsaved:
            n = self.exposure_log.unsaved
            parts.append(f"{n} exposure record{'s' if n != 1 else ''}")
        if self._position_problem is not None:
            parts.append("the resume position")
        if not parts:
            return None
        return f"{' and '.join(parts)} ({self.exposure_log.problem or self._position_problem})"

    # ---- where we are --------------------------------------------------------------

    @property
    def current_id(self) -> str | None:
        """The sample on screen, or ``None`` past the end of the queue."""
        if 0 <= self.position < len(self.queue.ids):
            return self.queue.ids[self.position]
        return None

    @property
    def is_breather(self) -> bool:
        """Whether the current item is a benign breather."""
        return self.current_id in self.queue.breathers

    @property
    def total(self) -> int:
        """Items in this queue (earlier sessions included, breathers not), less those
        quarantined undecided since it was loaded: like those quarantined before, they
        are never judged, so they are neither done nor left to do."""
        return self.queue.size - self.withdrawn

    @property
    def done(self) -> int:
        """Items of this queue with a standing decision by this reviewer."""
        mine = sum(1 for sid, v in self._standing.items() if v and sid not in self.queue.breathers)
        grouped = sum(len(m) for sid, m in self._propagated_to.items() if self._standing.get(sid))
        return self.queue.already_done + mine + grouped

    @property
    def withdrawn(self) -> int:
        """Items of this queue quarantined in this session (an escalation's copies or
        group, or another reviewer's escalation) without a standing decision here."""
        decided = {sid for sid, stack in self._standing.items() if stack}
        for sid, members in self._propagated_to.items():
            if self._standing.get(sid):
                decided.update(members)
        if self._queue_ids is None:
            self._queue_ids = frozenset(self.queue.ids) - self.queue.breathers
        return len((self._hidden & self._queue_ids) - decided)

    @property
    def items_per_hour(self) -> float | None:
        """Decisions per hour of active reviewing, once there is a minute to go on."""
        active = self.wellbeing.session.active_seconds
        if active < 60:
            return None
        return sum(self._verdicts.values()) * 3600.0 / active

    def standing_verdict(self, sample_id: str | None = None) -> str | None:
        """The verdict this reviewer gave the item in this session, if it stands."""
        sid = self.current_id if sample_id is None else sample_id
        stack = self._standing.get(sid or "")
        return stack[-1] if stack else None

    @property
    def subtags(self) -> tuple[str, ...]:
        """Sub-tags chosen for the current item."""
        return self._item.subtags

    @property
    def note(self) -> str | None:
        """The note that will be stored with the next decision on this item."""
        return self._item.note

    @property
    def folded_behind(self) -> tuple[str, ...]:
        """Members of the current item's group that wait folded behind it in this queue."""
        return self._folding.behind(self.current_id)

    def upcoming(self, count: int) -> list[str]:
        """The next ``count`` ids after the current one (for prefetching)."""
        return list(self.queue.ids[self.position + 1 : self.position + 1 + count])

    # ---- moves -----------------------------------------------------------------------

    def next(self) -> bool:
        """Move to the next item that is not quarantined; False at the end."""
        return self._move(+1)

    def previous(self) -> bool:
        """Move to the previous item that is not quarantined; False at the start."""
        return self._move(-1)

    def _move(self, delta: int) -> bool:
        self.wellbeing.activity()
        target = self._visible_from(self.position + delta, delta)
        if target is None or target == self.position:
            return False
        self._leave()
        self.position = target
        self._arrive()
        self._save_position()
        return True

    def leave_if_quarantined(self) -> str | None:
        """Move on when another reviewer just escalated the item on screen.

        Returns:
            The id of the item that was taken away, or ``None``.
        """
        sid = self.current_id
        if sid is None or sid not in self.labels.quarantined_ids():
            return None
        self._hidden.add(sid)
        self._leave()
        self.position = self._visible_from(self.position + 1, +1) or len(self.queue.ids)
        self._arrive()
        return sid

    def _visible_from(self, index: int, step: int) -> int | None:
        """The first index from ``index`` in direction ``step`` that is not quarantined.

        Re-reads the quarantine each time, so an item another reviewer just escalated
        vanishes here too. Going forward may end past the last item (the end of the
        queue); going back past the first gives ``None``.
        """
        quarantined = self.labels.quarantined_ids()
        for rep in self._folding.representatives_in(quarantined):
            self._folding.release(rep)  # escalated elsewhere: its members are items again
        self._hidden |= quarantined
        ids = self.queue.ids
        while 0 <= index < len(ids):
            if ids[index] not in self._hidden and ids[index] not in self._folding:
                return index
            index += step
        return len(ids) if index >= len(ids) else None

    def _leave(self) -> None:
        self._end_reveal()

    def _arrive(self) -> None:
        self.step = default_step(self.settings)
        self._item = _Item(started=self.clock(), max_step=int(self.step))

    def _save_position(self, force: bool = False) -> None:
        ranks = self.queue.ranks
        now = self.clock()
        if not ranks or (not force and now - self._position_saved < POSITION_SAVE_S):
            return
        rank = ranks[self.position] if self.position < len(ranks) else ranks[-1] + 1
        try:
            self.labels.save_position(self.reviewer, self.queue.name, rank)
        except ReviewerError as exc:
            self._position_problem = exc.one_line()  # tried again on the next move
            return
        self._position_saved = now
        self._position_problem = None

    # ---- reveal ------------------------------------------------------------------------

    def reveal(self) -> str | None:
        """Show the image one step clearer; a reason when that is refused."""
        self.wellbeing.activity()
        if self.current_id is None:
            return "nothing to reveal"
        if self.settings.review.image_mode == "text-only":
            return "text-only mode: images are never shown"
        cap = self.wellbeing.cap_reached()
        if cap is not None:
            return cap
        new = next_step(self.step, self.settings)
        if new == self.step:
            return "already at full detail"
        if self._item.revealed_since is None:
            self._item.revealed_since = self.clock()
        self._item.revealed = True
        if new == RevealStep.FULL and self._item.full_since is None:
            self._item.full_since = self.clock()
        self.step = new
        self._item.max_step = max(self._item.max_step, int(new))
        self.wellbeing.revealed(int(new))
        self.exposure_log.write("reveal", sample_id=self.current_id, depth=int(new))
        return None

    def hide(self) -> None:
        """Back to the default step (the reviewer's key, or the reveal timeout)."""
        self.wellbeing.activity()
        self._end_reveal()
        self.step = default_step(self.settings)

    def _end_reveal(self) -> None:
        since = self._item.revealed_since
        if since is None:
            return
        seconds = max(0.0, self.clock() - since)
        self._item.revealed_since = None
        self.wellbeing.revealed_for(seconds)
        self.exposure_log.write(
            "revealed_seconds",
            sample_id=self.current_id,
            depth=self._item.max_step,
            seconds=round(seconds, 3),
        )
        full = self._item.full_since
        if full is not None:
            self._item.full_since = None
            colour = max(0.0, self.clock() - full)
            self.wellbeing.full_colour_for(colour)
            self.exposure_log.write(
                "full_colour_seconds", sample_id=self.current_id, depth=int(RevealStep.FULL),
                seconds=round(colour, 3),
            )

    # ---- decisions -----------------------------------------------------------------------

    def set_category(self, category: str, subtags: tuple[str, ...] = ()) -> None:
        """File the following decisions under ``category`` (sticky across items)."""
        if category not in self.settings.review.categories:
            raise ReviewerError(
                f"unknown category '{category}'",
                f"categories of this audit: {', '.join(self.settings.review.categories)}",
            )
        unknown = [t for t in subtags if t not in HATE_SUBTAGS]
        if unknown or (subtags and category != "hate"):
            raise ReviewerError(f"sub-tags {subtags} do not apply to '{category}'")
        self.category = category
        self._category_chosen = True
        self._item.subtags = tuple(subtags)

    def suggest_category(self, category: str | None) -> None:
        """Use the item's own category (e.g. ``hate`` for an item only hate flags raised)
        until the reviewer picks one with the category key; then their choice sticks.

        Hate flags are judged by decisions filed under ``hate``: without this, a
        reviewer who never presses the category key would file them under ``nsfw``.
        """
        if self._category_chosen:
            return
        default = self.settings.review.default_category
        known = self.settings.review.categories
        self.category = category if category in known else default

    def set_note(self, note: str) -> None:
        """Attach a note to the next decision on this item (empty clears it)."""
        self._item.note = note.strip() or None

    def decide(self, verdict: str) -> LabelEvent:
        """Store a decision on the current item (durable on return), then move on.

        ``escalate`` also quarantines the item for everyone, in the same transaction,
        and takes it out of this queue at once.

        Raises:
            ReviewerError: There is no current item, or the store refused the write.
        """
        self.wellbeing.activity()
        sid = self.current_id
        if sid is None:
            raise ReviewerError("no item to decide on", "the queue is finished")
        event = self.labels.record(self._decision(sid, verdict))
        self._settle(sid, verdict)
        return event

    def _settle(self, sid: str, verdict: str) -> None:
        """After a stored decision on ``sid``: counts, exposure log, quarantine, move on."""
        if not self._item.revealed:
            self._unrevealed += 1
        self._folding.release(sid)
        self._standing.setdefault(sid, []).append(verdict)
        self._positions[sid] = self.position
        self._verdicts[verdict] += 1
        if verdict in HARMFUL_VERDICTS and sid not in self.queue.breathers:
            self.wellbeing.confirmed_harmful()
            self.exposure_log.write("confirmed_harmful", sample_id=sid)
        if verdict == "escalate":
            self._hidden.add(sid)
            self.near_question = self._near_question(sid, self._quarantine_copies(sid))
        self._history.append((sid, verdict))
        self._move(+1)

    @property
    def group(self) -> Group | None:
        """The current item's near-duplicate group (``None``: not grouped)."""
        sid = self.current_id
        return None if sid is None else self.groups.of(sid)

    def decide_group(self, verdict: str) -> tuple[LabelEvent, int]:
        """Decide the current item and propagate the decision to its whole group.

        The other members get their own events pointing at this one (``group:<id>``)
        and leave the queue; statistics never count them as judged. Returns the
        deciding event and how many decisions were propagated.

        Raises:
            ReviewerError: no current item, it is in no group, or the category is judged
                on the caption (``[review] caption_categories``), which copies of an
                image do not share.
        """
        group = self.group
        if group is None:
            raise ReviewerError("this item is in no near-duplicate group",
                                "run `reviewer groups DIR` first")
        if self.category in self.settings.review.caption_categories:
            raise ReviewerError(
                f"'{self.category}' is judged on the caption, and near-duplicates share only"
                " the image",
                "decide this item alone, or pick an image category with the category key",
            )
        group_id, members = group
        sid = self.current_id
        assert sid is not None
        self.wellbeing.activity()
        event, propagated = self.labels.record_group(
            self._decision(sid, verdict), members, group_id
        )
        self._propagated += propagated
        others = [m for m in members if m != sid]
        queued = set(self.queue.ids)
        self._propagated_to[sid] = [m for m in others if m in queued and m not in self._standing]
        self._hidden.update(others)
        self._settle(sid, verdict)
        return event, propagated

    @property
    def propagated(self) -> int:
        """Decisions this session propagated to group members."""
        return self._propagated

    def _quarantine_copies(self, sid: str) -> int:
        """Quarantine the exact copies (same bytes) of an escalated item at once; how many."""
        exact = self.groups.exact.get(sid)
        if exact is None:
            return 0
        group_id, members = exact
        copies = [m for m in members if m != sid]
        self.labels.quarantine(copies, self.reviewer, f"group:{group_id}")
        self._hidden.update(copies)
        return len(copies)

    def _near_question(self, sid: str, exact_copies: int) -> NearGroupQuestion | None:
        """The question to ask after escalating ``sid``, if its perceptual group has members
        that are not quarantined yet (``g`` then escalate quarantined them all: no question)."""
        near = self.groups.near.get(sid)
        if near is None:
            return None
        group_id, members = near
        quarantined = self.labels.quarantined_ids()
        left = tuple(m for m in members if m != sid and m not in quarantined)
        return NearGroupQuestion(sid, group_id, left, exact_copies) if left else None

    def answer_near_group(self, quarantine: bool) -> int:
        """The reviewer's answer to :attr:`near_question`: yes quarantines the remaining
        members at once for everyone (reason ``group:<id>``, by this reviewer) and
        moves off the item on screen if it was one of them; no changes nothing (they stay
        ordinary items, to be judged). Returns how many were quarantined."""
        question, self.near_question = self.near_question, None
        if question is None or not quarantine:
            return 0
        count = self.labels.quarantine(
            question.members, self.reviewer, f"group:{question.group_id}"
        )
        self._hidden.update(question.members)
        self.leave_if_quarantined()
        return count

    def _decision(self, sid: str, verdict: str) -> Decision:
        breather = sid in self.queue.breathers
        return Decision(
            sample_id=sid,
            reviewer=self.reviewer,
            category=self.category,
            verdict=verdict,
            subtags=self._item.subtags if self.category == "hate" else (),
            seconds_on_item=round(self.clock() - self._item.started, 3),
            reveal_depth=self._item.max_step,
            note=self._item.note,
            session_id=self.session_id,
            queue=BREATHER_QUEUE if breather else self.queue.name,
        )

    @property
    def escalated_last(self) -> str | None:
        """The item, when this session's latest standing decision is an escalation (which
        undo passes over to the decision before it)."""
        if self._history and self._history[-1][1] == "escalate":
            return self._history[-1][0]
        return None

    @property
    def escalations(self) -> int:
        """Items escalated in this session (final: undo never takes them back)."""
        return self._verdicts["escalate"]

    @property
    def undoable(self) -> int:
        """Decisions of this session that undo can still take back (escalations cannot)."""
        return sum(n for verdict, n in self._verdicts.items() if verdict != "escalate")

    def undo(self) -> LabelEvent | None:
        """Undo this session's latest decision and go back to its item; escalations stay."""
        self.wellbeing.activity()
        event = self.labels.undo_last(self.reviewer, self.session_id)
        if event is None:
            return None
        for i in range(len(self._history) - 1, -1, -1):
            if self._history[i] == (event.sample_id, event.verdict):
                del self._history[i]
                break
        stack = self._standing.get(event.sample_id, [])
        if stack:
            stack.pop()
        if not stack and event.sample_id in self._propagated_to:
            # The store undid the propagated decisions with it: the members come back.
            members = self._propagated_to.pop(event.sample_id)
            self._hidden.difference_update(members)
        if not stack:  # the group is undecided again: hold back what still waits
            self._folding.undone(
                event.sample_id, lambda m: not self._standing.get(m) and m not in self._hidden
            )
        self._verdicts[event.verdict] -= 1
        if self._verdicts[event.verdict] <= 0:
            del self._verdicts[event.verdict]
        if event.verdict in HARMFUL_VERDICTS and event.sample_id not in self.queue.breathers:
            self.wellbeing.confirmation_undone()
        target = self._positions.get(event.sample_id)
        if target is not None and target != self.position:
            self._leave()
            self.position = target
            self._arrive()
            self._save_position()
        return event

    # ---- wellbeing -------------------------------------------------------------------------

    def break_due(self) -> BreakDue | None:
        """A break reminder to show now (asked at item boundaries)."""
        return self.wellbeing.break_due()

    def cap_reached(self) -> str | None:
        """Why the session must end for today, if it must."""
        return self.wellbeing.cap_reached()

    def start_break(self) -> None:
        """The reviewer accepted a break: hide the image, log it, stop the active clock."""
        self.hide()
        self.wellbeing.start_break()
        self.exposure_log.write("break_taken")

    def end_break(self) -> None:
        """The break is over."""
        self.wellbeing.end_break()

    def snooze(self) -> None:
        """The reviewer postponed the break: allowed, and logged."""
        self.wellbeing.snooze()
        self.exposure_log.write("break_snoozed")

    def log_cap(self) -> None:
        """Record that the daily cap ended this session."""
        self.exposure_log.write("cap_reached")
