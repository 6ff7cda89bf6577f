"""`shmtop replay`: the interactive view on a recording, with a time cursor.

The live app polls a SnapshotSource in its worker; here the source is the recording at the
cursor, so every view that needs only a snapshot works as it does live. Nothing is changed
(removal and signals refuse, see refusals.replay_refusal), nothing live is read (waiters and a
queue's messages are not in a recording, and a segment's contents are not either), and the
status line and the header say it is a recording, and of when.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from textual import on
from textual.binding import Binding

from shmtop.core.model import Kind, MessageQueue, Segment, Snapshot
from shmtop.core.recording.moments import parse_moment
from shmtop.core.recording.reader import NO_POSIX, Recording, RecordingError
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.units import clock
from shmtop.tui.app import ShmtopApp, SnapshotReady
from shmtop.tui.posix_source import PosixView
from shmtop.tui.probes import run_probes
from shmtop.tui.refusals import replay_refusal
from shmtop.tui.screens.main import MainScreen, tab_label
from shmtop.tui.screens.queue_view import QueueScreen
from shmtop.tui.screens.replay_jump import JumpScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
NOT_RECORDED = "a recording holds no waiters (they are scanned live only)"


class RecordingSource:
    """The app's SnapshotSource: the recording's snapshot at the cursor (a frame index).
    Read by the poll worker, one poll at a time (the app's polls never overlap)."""

    def __init__(self, recording: Recording, index: int) -> None:
        self.recording = recording
        self.index = index

    def snapshot(self) -> Snapshot:
        return self.recording.snapshot(self.index)


class RecordedPosix:
    """The app's PosixFeed: the POSIX half of the snapshot at the cursor (the same view
    while the cursor stays). No limits: the live ones are not the recording's."""

    def __init__(self, source: RecordingSource) -> None:
        self.source = source
        self._shown: tuple[int, PosixView] | None = None

    def snapshot(self, shown: bool = True) -> PosixView:
        index = self.source.index
        if self._shown is not None and self._shown[0] == index:
            return self._shown[1]
        recording = self.source.recording
        record = recording.posix(index)
        if record is None:
            problem = NO_POSIX if not recording.has_posix else "no POSIX scan recorded yet"
            view = PosixView(None, None, None, problem)
        else:
            view = PosixView(record.shm, record.queues, None, record.problem)
        self._shown = (index, view)
        return view


class NoWaiters:
    """The waiter source of a replay: waits are not recorded, and the live ones are not the
    recording's (the views then say why they show none)."""

    def scan(self) -> WaitReport:
        raise OSError(NOT_RECORDED)


def no_messages(msqid: int) -> Any:
    raise OSError("a recording holds no queued messages (only their counts)")


def offset(seconds: float) -> str:
    """'+1m05s' from the start of the recording ('+2.5s' under a minute: a recording at
    less than a second a snapshot steps by less than one)."""
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"+{max(seconds, 0.0):.1f}s".replace(".0s", "s")
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"+{hours}h{minutes:02d}m{secs:02d}s"
    return f"+{minutes}m{secs:02d}s" if minutes else f"+{secs}s"


class ReplayMainScreen(MainScreen):
    def __init__(self, first: Snapshot | None, **options: Any) -> None:
        super().__init__(**options)
        self.first = first

    def first_tab_title(self, kind: Kind) -> str:
        """The counts of the first snapshot shown already: the tab bar is not laid out again
        when it comes (nor its underline slid to the wider title)."""
        if self.first is None:
            return super().first_tab_title(kind)
        count = len(self.first.objects(kind))
        return tab_label(kind, count, count)

    def why_not(self, action: str) -> str | None:
        return replay_refusal(action) or super().why_not(action)

    def action_open(self) -> None:
        """Enter on a POSIX tab: its contents are not recorded (the live file of that name
        may be another one)."""
        if self.posix_table is not None:
            self.say("a recording holds no POSIX object contents: the pane below shows its facts")
            return
        super().action_open()


class ReplaySemaphoreSetScreen(SemaphoreSetScreen):
    def why_not(self, action: str) -> str | None:
        return replay_refusal(action) or super().why_not(action)


class ReplayQueueScreen(QueueScreen):
    def why_not(self, action: str) -> str | None:
        return replay_refusal(action) or super().why_not(action)


class ReplayApp(ShmtopApp):
    """The live app on a RecordingSource, paused at the start; `z` plays, `[`/`]` step."""

    TITLE = "shmtop replay"
    BINDINGS = [
        Binding("left_square_bracket", "step(-1)", "Back a snapshot", id="replay.back"),
        Binding("right_square_bracket", "step(1)", "Forward a snapshot", id="replay.forward"),
        Binding("g", "jump", "Go to a time", id="replay.jump"),
        Binding("z", "pause", "Play/pause", id="app.pause"),
        Binding("plus,equals_sign", "interval(1)", "Faster", show=False, id="app.faster"),
        Binding("minus", "interval(-1)", "Slower", show=False, id="app.slower"),
    ]

    def __init__(
        self, recording: Recording, *, at: float | None = None, speed: float = 1.0, **options: Any
    ) -> None:
        options.pop("readonly", None)
        start = recording.index_at(recording.start if at is None else at)
        self.cursor = RecordingSource(recording, start)
        self.recorded_posix = RecordedPosix(self.cursor)
        super().__init__(self.cursor, readonly=True, waiter_source=NoWaiters(),
                         peeker=no_messages, posix_source=self.recorded_posix,
                         **options)  # fmt: skip
        self.recording = recording
        self.speed = speed
        self.at = recording.times[start]  # the cursor as a moment (playing moves it smoothly)
        self.set_reactive(ShmtopApp.paused, True)
        # The first snapshot decoded before Textual starts (it is then handed out at once);
        # a frame that cannot be read says so in the status line at the first poll instead.
        self._first: Snapshot | None = None
        with contextlib.suppress(RecordingError):
            self._first = recording.snapshot(start)

    def get_default_screen(self) -> MainScreen:
        return ReplayMainScreen(self._first, start_tab=self.start_tab, readonly=True,
                                show_clock=False)  # fmt: skip

    # ---- the cursor ----

    def _restart_timer(self) -> None:
        """The play clock: each tick moves the cursor by interval x speed when playing."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(self.interval, self._tick)
        self._show_subtitle()

    def _tick(self) -> None:
        if self.paused:
            return
        last = len(self.recording) - 1
        self.at = min(self.at + self.interval * self.speed, self.recording.times[last])
        self.move_to(self.recording.index_at(self.at), keep_at=True)
        if self.cursor.index == last:
            self.paused = True
            self.say("end of the recording: z plays it again from the start")

    def poll(self) -> None:
        """Show the snapshot at the cursor now, on the UI thread (live: taken in a worker).
        The recording is in memory and a step applies one frame's changes (a jump at most a
        key frame and a minute of them): a worker thread would only add its start and the
        hand-over to the UI, most of a step's time on a loaded machine."""
        main = self.find_main_screen()
        try:
            snapshot = self.cursor.snapshot()
        except RecordingError as error:
            self._startup_gc.resume()  # perhaps no first frame: do not wait for one
            if main is not None:
                main.set_status_note(f"{self.replay_line()} · {error}", error=True)
            return
        probes = run_probes(self.probe_request(), self.waiter_source, self.peeker)
        try:
            posix = self.recorded_posix.snapshot()
        except RecordingError as error:
            posix = PosixView(None, None, None, str(error))
        self._snapshot_ready(SnapshotReady(snapshot, replace(probes, posix=posix)))
        self._show_replay()

    def request_poll(self) -> None:
        """A view just opened (or a scan was switched on) asks: its snapshot once it is
        drawn, since a screen still mounting misses a snapshot (live, the next poll comes
        within a second; a paused replay has none)."""
        self.call_after_refresh(self._poll_when_mounted)

    def _poll_when_mounted(self) -> None:
        if not self.screen.is_mounted:
            self.call_after_refresh(self._poll_when_mounted)
            return
        self.poll()

    def move_to(self, index: int, *, keep_at: bool = False) -> None:
        index = max(0, min(len(self.recording) - 1, index))
        if not keep_at:
            self.at = self.recording.times[index]
        if index != self.cursor.index:
            self.cursor.index = index
            self.poll()
        self._show_replay()

    def action_step(self, step: int) -> None:
        self.paused = True
        self.move_to(self.cursor.index + step)
        if self.cursor.index in (0, len(self.recording) - 1) and step:
            edge = "first" if self.cursor.index == 0 else "last"
            self.say(f"the {edge} snapshot of the recording")

    def action_pause(self) -> None:
        if self.paused and self.cursor.index == len(self.recording) - 1:
            self.move_to(0)  # at the end, play starts again from the start
        self.paused = not self.paused
        self.refresh_bindings()

    def action_interval(self, step: int) -> None:
        """+ and -: the playing speed (the live view's refresh interval)."""
        at = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.speed))
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, at + step))]
        self._show_subtitle()
        self._show_replay()

    def action_jump(self) -> None:
        def answered(text: str | None) -> None:
            if text is None:
                return
            try:
                when = parse_moment(text, self.recording.start, self.recording.end)
            except ValueError as error:
                self.say(str(error))
                return
            self.paused = True
            self.move_to(self.recording.index_at(when))

        self.push_screen(JumpScreen(clock(self.at)), answered)

    def why_not(self, action: str) -> str | None:
        return replay_refusal(action) or super().why_not(action)

    def save_preferences(self) -> None:
        """A replay keeps the live view's remembered settings as they are."""

    # ---- what it shows ----

    def say(self, note: str) -> None:
        main = self.find_main_screen()
        if main is not None:
            main.say(note)

    def replay_line(self) -> str:
        """RECORDING FILE · when · offset of length · frame i/n · paused or playing."""
        shown = self.snapshot.taken_at if self.snapshot is not None else self.at
        recording = self.recording
        name = recording.path.name if recording.path is not None else "recording"
        state = "paused" if self.paused else f"playing x{self.speed:g}"
        return (f"RECORDING {name} · {clock(shown)} ({offset(shown - recording.start)} of"
                f" {offset(recording.end - recording.start)[1:]}) · snapshot"
                f" {self.cursor.index + 1}/{len(recording)} · {state}"
                " · [ ] step, g go to, z play, +/- speed")  # fmt: skip

    def _show_subtitle(self) -> None:
        state = "paused" if self.paused else f"playing x{self.speed:g}"
        self.sub_title = f"RECORDING (not live) · {state}"

    def _show_replay(self) -> None:
        main = self.find_main_screen()
        if main is not None:
            main.set_status_note(self.replay_line())

    def watch_paused(self, paused: bool) -> None:
        super().watch_paused(paused)
        self._show_replay()

    # ---- views: only what a snapshot holds ----

    @on(MainScreen.OpenRequested)
    def _open_recorded(self, message: MainScreen.OpenRequested) -> None:
        """A set or a queue opens on the recorded snapshot; a segment's contents are not in
        a recording (the live segment with that id may be another one, or none)."""
        message.prevent_default()  # the live app's handler would open the live segment
        obj = message.obj
        if isinstance(obj, Segment):
            self.say("a recording holds no segment contents: the detail pane shows its facts")
        elif isinstance(obj, MessageQueue):
            self.push_screen(ReplayQueueScreen(obj.id, self.snapshot, readonly=True))
        else:
            labels = self.semaphore_labels.get(obj.id, ())
            self.push_screen(
                ReplaySemaphoreSetScreen(obj.id, self.snapshot, readonly=True, labels=labels)
            )
        self.request_poll()
