"""Step 5, rum nodes: the files written, each validator's env file (secrets redacted), copy a path, and
start rum where it is installed (otherwise the exact command to run)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Static

from mosaic_tui.messages import ExportsWritten
from mosaic_tui.screens.base import WizardScreen, shown_path

ABOUT = {"deployment_file": "every output of every step", "rum_file": "rum settings, all validators",
         "genesis_path": "auxiliary genesis (geth style)", "spec_path": "Aura chain spec",
         "node_config_path": "Nethermind config of the initial proposer's node",
         "compose_path": "compose file of the authority nodes"}
# Values under these names would be secrets; the env files hold references and paths, but the preview
# never shows anything that looks like a key, whatever a future export adds.
_SECRET_NAME = re.compile(r"PASSWORD(?!_FILE)|SECRET|PRIVATE|PASSPHRASE|MNEMONIC", re.IGNORECASE)


def redact_env(text: str) -> str:
    """The env file text with every secret-looking value replaced by ********."""
    from mosaic_tui.keyref import looks_like_secret

    lines = []
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and (_SECRET_NAME.search(name) or looks_like_secret(value)):
            line = f"{name}=********"
        lines.append(line)
    return "\n".join(lines)


class RumExportScreen(WizardScreen):
    PAGE = "export"
    NEXT_LABEL = "Done"
    BINDINGS = [
        Binding("c", "copy_path", "Copy path"),
        Binding("v", "next_validator", "Next env file"),
        Binding("w", "write", "Write again"),
        Binding("r", "start_rum", "Start rum"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.validator = 0
        self.files: list[tuple[Path, str]] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(id="export", classes="page-body"):
            yield Static("", id="export-intro")
            yield DataTable(id="export-files", cursor_type="row", zebra_stripes=True)
            yield Static("", id="export-env-title")
            with VerticalScroll(id="export-env-pane"):
                yield Static("", id="export-env")
            yield Static("", id="export-rum")
            yield Button("Start rum (r)", id="export-start-rum", compact=True, variant="success")

    def on_mount(self) -> None:
        table = self.query_one("#export-files", DataTable)
        table.add_column("File", key="file")
        table.add_column("What", key="what")

    def _plan_and_outputs(self) -> tuple[Any, dict[str, Any]] | None:
        from mosaic_tui.errors import MosaicError
        from mosaic_tui.journal import Journal, journal_path
        from mosaic_tui.plan import load_plan

        path = self.session.active_plan_path
        try:
            return load_plan(path), Journal.load(journal_path(path)).outputs()
        except MosaicError as error:
            self.query_one("#export-intro", Static).update(f"[red]{escape(str(error))}[/]")
            return None

    def refresh_view(self) -> None:
        loaded = self._plan_and_outputs()
        if loaded is not None:
            plan, outputs = loaded
            out_dir = plan.out_path(self.session.active_plan_path)
            self.files = self._files(plan, outputs, out_dir)
            self.query_one("#export-intro", Static).update(
                f"[b]Step 5 — Rum nodes.[/b] {len(self.files)} files in [b]{escape(shown_path(out_dir))}[/b]; the env "
                "files hold key references and paths, never keys. c copies the selected file's path. Validators: "
                "before starting a node, run [b]mosaic-tui genesis verify PLAN[/b] to re-derive the genesis.")
            self._fill_files()
            self._show_env(plan, outputs)
            self._show_rum(plan, outputs, out_dir)
        super().refresh_view()

    def _files(self, plan: Any, outputs: dict[str, Any], out_dir: Path) -> list[tuple[Path, str]]:
        """What steps 3 and 5 wrote, the same files as `mosaic-tui export` (and the genesis files)."""
        from mosaic_tui import export

        found = [(Path(outputs[key]), ABOUT.get(key, "node file")) for key in sorted(outputs)
                 if key.endswith("_path") and isinstance(outputs[key], str)]
        found += [(out_dir / export.DEPLOYMENT_FILE, ABOUT["deployment_file"]),
                  (out_dir / export.RUM_FILE, ABOUT["rum_file"])]
        found += [(out_dir / export.env_file_name(plan, index), f"rum env of validator {index + 1}")
                  for index in range(len(plan.validators))]
        return [(path, what) for path, what in found if path.is_file()]

    def _fill_files(self) -> None:
        table = self.query_one("#export-files", DataTable)
        table.clear()
        for path, what in self.files:
            table.add_row(path.name, what, key=str(path))

    def _show_env(self, plan: Any, outputs: dict[str, Any]) -> None:
        from mosaic_tui import export
        from mosaic_tui.errors import MosaicError

        count = len(plan.validators)
        self.validator %= max(count, 1)
        title = self.query_one("#export-env-title", Static)
        body = self.query_one("#export-env", Static)
        try:
            name = export.env_file_name(plan, self.validator)
            text = export.rum_env(plan, outputs, self.validator)
        except MosaicError as error:
            title.update("[b]env preview[/b]")
            body.update(f"[red]{escape(str(error))}[/]")
            return
        title.update(f"[b]{name}[/b] — validator {self.validator + 1} of {count} (v shows the next), secrets redacted")
        lines = [line for line in redact_env(text).splitlines() if not line.startswith("#")]
        body.update(escape("\n".join(lines)))

    def _show_rum(self, plan: Any, outputs: dict[str, Any], out_dir: Path) -> None:
        from mosaic_tui import export
        from mosaic_tui.errors import MosaicError

        note = self.query_one("#export-rum", Static)
        button = self.query_one("#export-start-rum", Button)
        installed = shutil.which("rum") is not None
        button.display = True
        try:
            command = export.rum_command(plan, outputs, self.validator, out_dir=out_dir)
        except MosaicError as error:
            note.update(f"[red]{escape(str(error))}[/]")
            return
        if installed:
            note.update(f"rum is installed; r starts it for validator {self.validator + 1}.")
        else:
            # Shown by its public name: the interpreter's path differs between checkouts and machines,
            # while `r` runs the exact command.
            shown = ["mosaic-tui", *command[-3:-1], shown_path(command[-1])]
            note.update(f"rum is not on PATH; r starts our own validator node for validator {self.validator + 1}, "
                        f"as:\n[b]{escape(shlex.join(shown))}[/b]")

    # -- actions --------------------------------------------------------------------------------

    def can_go_next(self) -> bool:
        return False

    def action_next_validator(self) -> None:
        self.validator += 1
        self.refresh_view()

    def action_copy_path(self) -> None:
        table = self.query_one("#export-files", DataTable)
        if not self.files:
            return
        path = self.files[min(max(table.cursor_row, 0), len(self.files) - 1)][0].resolve()
        self.app.copy_to_clipboard(str(path))
        self.notify(f"Copied {path}")

    def action_write(self) -> None:
        loaded = self._plan_and_outputs()
        if loaded is not None:
            self.write_exports(*loaded)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def write_exports(self, plan: Any, outputs: dict[str, Any]) -> None:
        from mosaic_tui import export

        paths = export.write_exports(plan.out_path(self.session.active_plan_path), plan, outputs)
        self.post_message(ExportsWritten(paths))

    def on_exports_written(self, message: ExportsWritten) -> None:
        self.notify(f"Wrote {len(message.paths)} files.")
        self.refresh_view()

    def action_start_rum(self) -> None:
        loaded = self._plan_and_outputs()
        if loaded is not None:
            self.start_rum(*loaded)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rum")
    def start_rum(self, plan: Any, outputs: dict[str, Any]) -> None:
        import subprocess

        from mosaic_tui import export

        out_dir = plan.out_path(self.session.active_plan_path)
        command = export.rum_command(plan, outputs, self.validator, out_dir=out_dir)
        log = out_dir / f"rum-{self.validator}.log"
        with open(log, "ab") as stream:
            process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        what = "rum" if shutil.which("rum") else "the validator node"
        self.app.call_from_thread(self.notify, f"{what} started for validator {self.validator + 1} (PID {process.pid}); "
                                               f"its output goes to {log}", timeout=10)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-start-rum":
            event.stop()
            self.action_start_rum()
        else:
            super().on_button_pressed(event)
