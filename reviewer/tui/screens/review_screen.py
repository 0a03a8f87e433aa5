"""The review screen: caption and flag reasons first, the image as far as revealed, progress.

Keys become calls on :class:`~reviewer.review.session.ReviewSession`; this screen
only shows the result. Decisions are saved synchronously inside the key handler
(a ~1 ms SQLite commit) and only then reported as saved. Sample rows are read
in pages by a thread worker and images are decoded and blurred by the preview
cache's threads, so a keypress never waits on DuckDB or Pillow: when a row or
an image is not ready, the screen says so and fills in when it arrives. Until an
item's caption and flag reasons have been drawn, the decision keys are refused:
nothing is judged unseen, however long another process holds the audit database.

Help, statistics, breaks and the end of the session belong to the app: this
screen posts a message for each and the app decides what to show.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.events import Key, Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from reviewer.errors import ReviewerError
from reviewer.images.blur import RevealStep, prefetch_step
from reviewer.images.preview_cache import LOADING, Preview, PreviewCache
from reviewer.review import item_text
from reviewer.review.rows import RowCache
from reviewer.review.wellbeing import BreakDue
from reviewer.store.review import ReviewItem
from reviewer.text_safety import neutralise
from reviewer.tui import keymap
from reviewer.tui.widgets.caption_view import CaptionView
from reviewer.tui.widgets.image_panel import ImagePanel

if TYPE_CHECKING:
    from reviewer.audit import Audit
    from reviewer.review.session import NearGroupQuestion, ReviewSession


@dataclass(frozen=True)
class Stamp:
    """When a keypress was handled: wall clock and this thread's CPU clock (benchmark probe).

    The CPU time spent by the UI thread between the key and the refreshed screen is the
    latency an idle machine would see; the wall time adds waiting for other processes.
    """

    wall: float
    cpu: float

    @classmethod
    def now(cls) -> Stamp:
        return cls(time.perf_counter(), time.thread_time())


PREFETCH_AHEAD = 4
"""Items after the current one whose images are decoded and blurred in advance."""
QUARANTINE_POLL_S = 2.0
"""How often to check whether another reviewer escalated the item on screen."""
MIN_SIZE = (60, 16)
"""Smaller terminals get a notice instead of a layout too cramped to read."""


class ReviewScreen(Screen[None]):
    """One item at a time: caption, reasons, metadata, image panel, progress, footer."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings()

    class HelpRequested(Message):
        """The reviewer asked for the key help."""

    class StatsRequested(Message):
        """The reviewer asked for the audit's statistics."""

    class QuitRequested(Message):
        """The reviewer wants to end the session."""

    @dataclass
    class BreakNeeded(Message):
        """At an item boundary, a break is due (the next item is not drawn)."""

        due: BreakDue

    @dataclass
    class DayOver(Message):
        """At an item boundary, today's exposure cap is reached: the session must end."""

        reason: str

    @dataclass
    class NearGroupAsked(Message):
        """An escalation left near-duplicates unquarantined: the app asks the reviewer."""

        question: NearGroupQuestion

    @dataclass
    class RowsLoaded(Message):
        """A page of sample rows arrived from the worker."""

        requested: list[str]
        items: dict[str, ReviewItem]

    @dataclass
    class PreviewReady(Message):
        """A blurred preview finished in the preview cache."""

        preview: Preview

    def __init__(
        self,
        audit: Audit,
        session: ReviewSession,
        previews: PreviewCache | None,
        renderer: type[Widget] | None = None,
    ) -> None:
        super().__init__(id="review")
        self.audit = audit
        self.session = session
        self.previews = previews
        self.renderer = renderer
        self.rows = RowCache()
        self.latencies: list[float] = []
        """Seconds from a move's keypress to the refreshed screen (benchmark probe)."""
        self.cpu_latencies: list[float] = []
        """UI-thread CPU seconds from a move's keypress to the refreshed screen."""
        self.image_latencies: list[float] = []
        """Seconds from a move's keypress to its image on screen (benchmark probe)."""
        self._awaiting_image: Stamp | None = None
        self._shown: str | None = None
        """The item whose caption and flag reasons are on screen (drawn), if any."""
        self._shows = 0
        """Counts items put on screen, so a late "drawn" callback of an older one is ignored."""
        self._escalate_armed: str | None = None
        self._group_armed: str | None = None
        self._undo_armed: str | None = None
        self._undo_passes: set[str] = set()
        """Escalations the reviewer confirmed undo may pass over (asked once each)."""
        self._reveal_timer: Timer | None = None

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        keys = keymap.effective_keys(self.audit.settings.keys)
        yield Static(Text(""), id="progress", markup=False)
        with Horizontal(id="body"):
            yield CaptionView(id="caption")
            yield ImagePanel(
                renderer=self.renderer,
                text_only=self._text_only,
                reveal_key=keymap.key_label(keys["reveal"]),
                id="image",
                classes="text-only" if self._text_only else "",
            )
        yield Static(Text(""), id="empty", markup=False)
        yield Static(Text(""), id="message", markup=False)
        yield Static(
            Text(
                "The terminal is too small for reviewing: make it at least "
                f"{MIN_SIZE[0]}×{MIN_SIZE[1]}."
            ),
            id="too-small",
            markup=False,
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(QUARANTINE_POLL_S, self._check_quarantine)
        if self.app.no_color:
            self.say("No colour in this terminal: the image panel names each reveal step.")
        self.show_current()

    def on_screen_resume(self) -> None:
        """Back from a dialog, the stats or a break: show the item as it stands now."""
        if self.is_mounted:
            self.show_current()

    def _check_quarantine(self) -> None:
        """Take the item off screen at once if another reviewer escalated it."""
        if not self.is_current:
            return
        gone = self.session.leave_if_quarantined()
        if gone is None:
            return
        if self.previews is not None:
            self.previews.forget(gone)
        self.say(f"{gone} was escalated by another reviewer and removed")
        self.show_current()

    def on_resize(self, event: Resize) -> None:
        small = event.size.width < MIN_SIZE[0] or event.size.height < MIN_SIZE[1]
        self.set_class(small, "too-small")

    # ---- showing --------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Show a one-line message (decisions saved, refusals, errors); while writes fail
        (a full disk), it also says what is not saved yet."""
        unsaved = self.session.unsaved
        if unsaved is not None:
            warning = f"NOT saved: {unsaved} — kept and retried; free disk space"
            text = f"{text} · {warning}" if text else warning
        self.query_one("#message", Static).update(Text(neutralise(text, 300)))

    def show_current(self) -> None:
        """Render the current item from what is loaded; ask for what is missing."""
        sid = self.session.current_id
        item = self.rows.get(sid) if sid is not None else None
        # The category follows the item, and the progress line shows it: suggest first.
        self.session.suggest_category(item.suggested_category if item is not None else None)
        self._update_progress()
        self.set_class(sid is None, "no-item")
        if sid is None:
            self._show_empty()
            return
        self._request_rows()
        caption = self.query_one(CaptionView)
        if item is None:
            self._not_shown()
            caption.show("", [], {"sample": sid, "status": "loading sample…"})
            self.query_one(ImagePanel).show(sid, self.session.step, None, "loading sample…")
            return
        caption.show(item.row.get("text"), item.reasons, item_text.metadata(item, self.session))
        if sid != self._shown:
            self._not_shown()
            self.call_after_refresh(self._drawn, sid, self._shows)
        self._show_image(item)
        # Start decoding the next items only once this one is on screen: on two cores the
        # decode threads would otherwise compete with this refresh.
        self.call_after_refresh(self._prefetch)

    @property
    def drawn(self) -> str | None:
        """The item whose caption and flag reasons are on screen now (only it may be judged)."""
        return self._shown

    def _not_shown(self) -> None:
        self._shown = None
        self._shows += 1

    def _drawn(self, sample_id: str, show: int) -> None:
        """The caption and reasons of ``sample_id`` reached the terminal: it may be judged."""
        if show == self._shows:
            self._shown = sample_id

    def _unseen(self, sid: str) -> bool:
        """True (and said) when ``sid``'s caption and reasons are not on screen yet."""
        if self._shown == sid:
            return False
        self.app.bell()
        self.say(f"still loading {sid}: nothing saved — decide once its caption shows")
        return True

    def _show_image(self, item: ReviewItem) -> None:
        panel = self.query_one(ImagePanel)
        step = self.session.step
        if self.previews is None or step is RevealStep.HIDDEN:
            panel.show(item.sample_id, step, None)
            return
        preview = self.previews.get(item.sample_id, step)
        if preview is not None:
            panel.show(item.sample_id, step, preview)
            self._image_shown(preview)
            return
        panel.show(item.sample_id, step, None, LOADING)
        future = self.previews.request(item.row, step)
        future.add_done_callback(self._preview_done)

    def _preview_done(self, future: Future[Preview]) -> None:
        """Runs in a cache thread (or here, if already done): hand over as a message."""
        self.post_message(self.PreviewReady(future.result()))

    def on_review_screen_preview_ready(self, message: PreviewReady) -> None:
        preview = message.preview
        if preview.sample_id == self.session.current_id and preview.step == self.session.step:
            self.query_one(ImagePanel).show(preview.sample_id, preview.step, preview)
            self._image_shown(preview)

    def _image_shown(self, preview: Preview) -> None:
        """Time the first image after a move, once it is on screen (benchmark probe)."""
        started, self._awaiting_image = self._awaiting_image, None
        if started is not None and preview.image is not None:
            self.call_after_refresh(self._record_image_latency, started)

    def _record_image_latency(self, started: Stamp) -> None:
        self.image_latencies.append(time.perf_counter() - started.wall)

    def _prefetch(self) -> None:
        step = prefetch_step(self.audit.settings)
        if self.previews is None or step is None:
            return
        ahead = self.rows.loaded_after(
            self.session.queue.ids, self.session.position, PREFETCH_AHEAD
        )
        self.previews.prefetch([item.row for item in ahead], step)

    def _update_progress(self) -> None:
        text = item_text.progress_line(self.session)
        self.query_one("#progress", Static).update(Text(neutralise(text, 400)))

    def _show_empty(self) -> None:
        text = item_text.empty_queue_text(self.session)
        self.query_one("#empty", Static).update(Text(neutralise(text)))
        self.query_one(ImagePanel).show(None, self.session.step, None)

    # ---- rows ------------------------------------------------------------------------------

    def _request_rows(self) -> None:
        page = self.rows.wanted(self.session.queue.ids, self.session.position)
        if page:
            self._load_rows(page)

    @work(thread=True, exclusive=False, exit_on_error=False, group="rows")
    def _load_rows(self, page: list[str]) -> None:
        """Read one page of rows (a short DuckDB read) and post it back."""
        try:
            items = self.audit.store.review.items(page, self.audit.settings)
        except Exception:
            self.app.call_from_thread(self.rows.failed, page)
            raise
        self.post_message(self.RowsLoaded(page, items))

    def on_review_screen_rows_loaded(self, message: RowsLoaded) -> None:
        self.rows.add(message.requested, message.items)
        if self.session.current_id in message.items or self.session.current_id in set(
            message.requested
        ):
            self.show_current()
        else:
            self._prefetch()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            text = error.one_line() if isinstance(error, ReviewerError) else repr(error)
            self.say(f"could not read the audit: {text} (moving on retries)")

    # ---- actions ----------------------------------------------------------------------------

    def _timed_move(self, started: Stamp) -> None:
        """After a move: wellbeing checks, render, and time keypress-to-refresh."""
        self._cancel_reveal_timer()
        if self._wellbeing_stop():
            return
        self._awaiting_image = started
        self.show_current()
        self.call_after_refresh(self._record_latency, started)

    def _record_latency(self, started: Stamp) -> None:
        self.latencies.append(time.perf_counter() - started.wall)
        self.cpu_latencies.append(time.thread_time() - started.cpu)

    def _wellbeing_stop(self) -> bool:
        """At an item boundary: end the day at the cap, or ask for a due break (the app
        shows them); the next item is not drawn meanwhile."""
        cap = self.session.cap_reached()
        if cap is not None:
            self.post_message(self.DayOver(cap))
            return True
        due = self.session.break_due()
        if due is not None:
            self.post_message(self.BreakNeeded(due))
            return True
        return False

    def _disarm(self) -> None:
        self._escalate_armed = None
        self._undo_armed = None
        self._group_armed = None

    def on_key(self, event: Key) -> None:
        """While an escalation is armed, any key but escalate's own only cancels it.

        Runs before the app looks the key up in the bindings, so the cancelling key
        (``n``, say) does not also act: it must not save a decision.
        """
        if self._escalate_armed is None:
            return
        active = self.app.active_bindings.get(event.key)
        if active is not None and active.binding.action == "escalate":
            return
        event.stop()
        event.prevent_default()
        self._disarm()
        self.say("escalation cancelled: nothing saved")

    def _key(self, action_id: str) -> str:
        """The key bound to an action now, as shown to the reviewer."""
        return keymap.key_label(keymap.effective_keys(self.audit.settings.keys)[action_id])

    def _blind(self) -> bool:
        """True while the terminal is too small to show the item: no deciding unseen."""
        if self.has_class("too-small"):
            self.app.bell()
            return True
        return False

    def action_decide(self, verdict: str) -> None:
        """Save a decision now (durable on return), then move on."""
        started = Stamp.now()
        grouped = self._group_armed
        self._disarm()
        if self._blind():
            return
        sid = self.session.current_id
        if sid is None:
            self.say("nothing to decide on: the queue is finished")
            return
        if self._unseen(sid):
            return
        members: tuple[str, ...] = (sid,)
        try:
            if grouped == sid and self.session.group is not None:
                members = self.session.group[1]
                _, propagated = self.session.decide_group(verdict)
                saved = f"saved: {verdict} · {sid} and {propagated} near-duplicates"
            else:
                self.session.decide(verdict)
                saved = f"saved: {verdict} · {self.session.category} · {sid}"
        except ReviewerError as exc:
            self.say(f"NOT saved: {exc.one_line()}")
            return
        if verdict == "escalate" and self.previews is not None:
            for member in members:
                self.previews.forget(member)
        self.say(saved)
        question = self.session.near_question
        if question is not None:  # the next item shows once the reviewer has answered
            self.post_message(self.NearGroupAsked(question))
            return
        self._timed_move(started)

    def action_group(self) -> None:
        """Arm a group decision: the next decision key applies to the whole group."""
        sid = self.session.current_id
        group = self.session.group
        if sid is None or group is None or len(group[1]) < 2:
            self.say("this item is in no near-duplicate group")
            return
        self._disarm()
        self._group_armed = sid
        self.say(
            f"Group decision: your next decision applies to {sid} and its "
            f"{len(group[1]) - 1} near-duplicates. Any other key cancels."
        )

    def action_escalate(self) -> None:
        """Escalation is final, so it takes a second press of the same key."""
        sid = self.session.current_id
        if sid is None:
            self.say("nothing to escalate: the queue is finished")
            return
        if self._blind() or self._unseen(sid):
            return
        if self._escalate_armed == sid:
            self.action_decide("escalate")
            return
        grouped = self._group_armed
        self._disarm()
        self._group_armed = grouped
        self._escalate_armed = sid
        self.say(
            f"Press {self._key('escalate')} again to escalate {sid}: quarantined for everyone "
            "at once, cannot be undone. Any other key cancels."
        )

    def action_next(self) -> None:
        started = Stamp.now()
        self._disarm()
        if self.session.next():
            self.say("")
        self._timed_move(started)

    def action_previous(self) -> None:
        started = Stamp.now()
        self._disarm()
        self.say("" if self.session.previous() else "this is the first item")
        self._timed_move(started)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In text-only mode reveal and hide mean nothing: keep them out of the footer."""
        return not (action in ("reveal", "hide") and self._text_only)

    @property
    def _text_only(self) -> bool:
        return self.audit.settings.review.image_mode == "text-only"

    def action_reveal(self) -> None:
        self._disarm()
        if self._blind():
            return
        refusal = self.session.reveal()
        if refusal:
            self.say(refusal)
            return
        self.say("")
        self.show_current()
        timeout = self.audit.settings.review.reveal_timeout_s
        if timeout > 0:
            self._cancel_reveal_timer()
            self._reveal_timer = self.set_timer(timeout, self._reveal_expired)

    def action_hide(self) -> None:
        self._disarm()
        self._cancel_reveal_timer()
        self.session.hide()
        self.show_current()

    def _reveal_expired(self) -> None:
        self._reveal_timer = None
        self.session.hide()
        self.say("the image went back to the default view (reveal timeout)")
        self.show_current()

    def _cancel_reveal_timer(self) -> None:
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
            self._reveal_timer = None

    def action_undo(self) -> None:
        armed = self._undo_armed
        self._disarm()
        escalated = self.session.escalated_last
        if escalated is not None and escalated not in self._undo_passes and self.session.undoable:
            # Undo passes over escalations: a reviewer undoing one by reflex must not
            # silently lose the decision before it instead.
            if armed != escalated:
                self._undo_armed = escalated
                self.say(
                    f"{escalated} stays escalated: escalations cannot be undone. Press "
                    f"{self._key('undo')} again to undo your decision before it."
                )
                return
            self._undo_passes.add(escalated)
        self._cancel_reveal_timer()
        try:
            event = self.session.undo()
        except ReviewerError as exc:
            self.say(f"undo failed: {exc.one_line()}")
            return
        if event is None:
            final = " (escalations are final)" if self.session.escalations else ""
            self.say(f"nothing to undo in this session{final}")
        else:
            self.say(f"undone: {event.verdict} on {event.sample_id}")
        self.show_current()

    # ---- dialogs and app flows --------------------------------------------------------------

    def action_category(self) -> None:
        from reviewer.tui.screens.category_screen import CategoryScreen

        self._disarm()
        screen = CategoryScreen(
            self.audit.settings.review.categories, self.session.category, self.session.subtags
        )
        self.app.push_screen(screen, self._category_chosen)

    def _category_chosen(self, choice: tuple[str, tuple[str, ...]] | None) -> None:
        if choice is None:
            return
        try:
            self.session.set_category(*choice)
        except ReviewerError as exc:
            self.say(exc.one_line())
        self.show_current()

    def action_note(self) -> None:
        from reviewer.tui.screens.note_screen import NoteScreen

        self._disarm()
        if self.session.current_id is None:
            self.say("nothing to attach a note to: the queue is finished")
            return
        self.app.push_screen(NoteScreen(self.session.note or ""), self._note_written)

    def _note_written(self, note: str | None) -> None:
        if note is None:
            return
        self.session.set_note(note)
        self.say("note kept for the next decision on this item" if note.strip() else "")
        self.show_current()

    def action_stats(self) -> None:
        self._disarm()
        self.post_message(self.StatsRequested())

    def action_help(self) -> None:
        self._disarm()
        self.post_message(self.HelpRequested())

    def action_quit_review(self) -> None:
        self._disarm()
        self.post_message(self.QuitRequested())
