"""Step 0, the chains: origin RPC (with a live "connected" line), deployment key, OST, core identifier and
the auxiliary chain's parameters. Every field is checked by the engine's parser as it is typed."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from mosaic_tui.messages import RpcChecked
from mosaic_tui.redact import redact, redact_url
from mosaic_tui.screens.base import WizardScreen, shown_path
from mosaic_tui.widgets.fields import FormRow, slug
from mosaic_tui.wizard_state import PREREQUISITES, FormField, parse_field

SECTIONS = {"origin.rpc": "Origin chain", "core.identifier": "Core", "auxiliary.rpc": "Auxiliary chain",
            "out_dir": "Files"}
RPC_FIELDS = ("origin.rpc", "auxiliary.rpc")
REFRESH_SECONDS = 5.0


class PrerequisitesScreen(WizardScreen):
    PAGE = "prerequisites"

    def compose_body(self) -> ComposeResult:
        form = self.session.form
        assert form is not None
        with VerticalScroll(id="prerequisites", classes="page-body"):
            yield Static(self._intro(), id="prerequisites-intro")
            for spec in PREREQUISITES:
                if spec.key in SECTIONS:
                    yield Static(SECTIONS[spec.key], classes="section-title")
                yield FormRow(spec.key, spec.label, form.values.get(spec.key, ""), self._checker(spec),
                              hint=spec.hint, key_button=spec.kind.name == "key",
                              placeholder=spec.kind.placeholder)
                if spec.key in RPC_FIELDS:
                    yield Static("", id=f"status-{slug(spec.key)}", classes="rpc-status")

    def _intro(self) -> str:
        app = self.session
        if app.mode == "devnet":
            return (f"Local devnet running at {app.devnet_url} (chain id {app.devnet_chain_id}). Dev keys and a dev OST "
                    f"token are ready; change what you like. The plan is saved to {shown_path(app.active_plan_path)}.")
        return f"Your own chains: the plan is read from and saved to {shown_path(app.active_plan_path)}."

    def _checker(self, spec: FormField) -> Any:
        def check(text: str) -> object:
            form = self.session.form
            assert form is not None
            return parse_field(spec, text, form.context(self._connected_chain_id()))
        return check

    def _connected_chain_id(self, latest: Any = None) -> int | None:
        """The chain id of the origin RPC as last checked; `latest` is a check the App has not stored yet."""
        check = latest if latest is not None else self.session.connected.get("origin.rpc")
        form = self.session.form
        if check is None or not check.ok or form is None or check.url != form.values.get("origin.rpc", "").strip():
            return None
        return int(check.chain_id)

    # -- typing -----------------------------------------------------------------------------------

    @on(FormRow.Changed)
    def _changed(self, event: FormRow.Changed) -> None:
        form = self.session.form
        assert form is not None
        form.values[event.key] = event.value
        if event.key in RPC_FIELDS:
            self._check_url(event.key, delay=0.4)
        if event.key in ("origin.chain_id", "auxiliary.chain_id", "origin.rpc"):
            self._refresh_identifier()
        self.refresh_nav()

    def _refresh_identifier(self, latest: Any = None) -> None:
        from mosaic_tui import units

        row = self.query_one(f"#row-{slug('core.identifier')}", FormRow)
        form = self.session.form
        assert form is not None
        context = form.context(self._connected_chain_id(latest))
        try:
            aux = units.parse_chain_id(form.values.get("auxiliary.chain_id", ""), "auxiliary.chain_id")
            default = units.default_core_identifier(context.origin_chain_id, aux) if context.origin_chain_id else None
        except Exception:
            default = None
        row.hint = f"empty = the default {default}" if default else "20 bytes; empty = origin + auxiliary chain ids"
        row.recheck(post=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("key-"):
            event.stop()
            spec = next(s for s in PREREQUISITES if f"key-{slug(s.key)}" == button)
            self._enter_key(spec)
            return
        super().on_button_pressed(event)

    def _enter_key(self, spec: FormField) -> None:
        from mosaic_tui.screens.keys import KeyEntryScreen

        row = self.query_one(f"#row-{slug(spec.key)}", FormRow)
        name = "deployer" if spec.key == "origin.deployer" else "initial-proposer"

        def chosen(result: Any) -> None:
            if result is not None:
                row.value = result.ref
        self.app.push_screen(KeyEntryScreen(spec.label, name, devnet=self.session.mode == "devnet",
                                            plan_dir=self.session.active_plan_path.parent), chosen)

    # -- the live RPC check ---------------------------------------------------------------------

    def _check_url(self, key: str, delay: float = 0.0) -> None:
        form = self.session.form
        assert form is not None
        url = form.values.get(key, "").strip()
        status = self.query_one(f"#status-{slug(key)}", Static)
        row = self.query_one(f"#row-{slug(key)}", FormRow)
        if not url or not row.valid:
            status.update("")
            return
        status.update(f"[dim]checking {escape(redact_url(url))} …[/]")
        self.run_worker(lambda: self._read_rpc(key, url, delay), thread=True, group=f"rpc-{slug(key)}",
                        exclusive=True, exit_on_error=False)

    def _read_rpc(self, key: str, url: str, delay: float) -> None:
        import time

        from textual.worker import get_current_worker

        from mosaic_tui.wizard_run import check_rpc

        if delay:
            time.sleep(delay)  # typing: only the last keystroke's URL is worth a request
        if get_current_worker().is_cancelled:
            return
        self.post_message(RpcChecked(key, check_rpc(url)))

    def on_rpc_checked(self, message: RpcChecked) -> None:
        form = self.session.form
        assert form is not None
        check = message.check
        if check.url != form.values.get(message.field, "").strip():
            return  # an answer for a URL that has been edited since
        # The message goes on to the App, which keeps the check in the session.
        status = self.query_one(f"#status-{slug(message.field)}", Static)
        if check.ok:
            text = f"[green]connected:[/] chain id {check.chain_id}, block {check.block}"
            planned = form.values.get(message.field.replace("rpc", "chain_id"), "").strip()
            if message.field == "origin.rpc" and not planned:
                self.query_one(f"#row-{slug('origin.chain_id')}", FormRow).value = str(check.chain_id)
            elif planned and planned != str(check.chain_id):
                text += f" — [b red]the plan says chain id {planned}[/]"
            status.update(text)
            self._refresh_identifier(check if message.field == "origin.rpc" else None)
        elif message.field == "auxiliary.rpc":
            when = "the wizard starts it in step 3" if self.session.mode == "devnet" else \
                "start your node from the spec.json written in step 3"
            status.update(f"[dim]not answering yet — {when}[/]")
        else:
            status.update(f"[b red]not connected:[/] {escape(redact(check.error or ''))}")
        if self.is_current:
            self.set_timer(REFRESH_SECONDS, lambda: self._check_url(message.field) if self.is_current else None)

    # -- next -----------------------------------------------------------------------------------

    def _rows(self) -> list[FormRow]:
        return list(self.query(FormRow))

    def can_go_next(self) -> bool:
        return super().can_go_next() and all(row.valid for row in self._rows())

    def nav_note(self) -> str:
        invalid = [row.label for row in self._rows() if not row.valid]
        if invalid:
            return f"[red]{len(invalid)} field{'s' if len(invalid) > 1 else ''} to fix: {', '.join(invalid[:2])}" + \
                   ("…" if len(invalid) > 2 else "") + "[/]"
        return ""

    def go_next(self) -> None:
        """Fields that parse may still clash (equal chain ids, a wrong identifier prefix): say so at the field."""
        form = self.session.form
        assert form is not None
        rows = {row.key: row for row in self._rows()}
        clashes = [p for p in form.problems() if p.field in rows]
        for problem in clashes:
            rows[problem.field].set_extra_error(problem.message)
        if clashes:
            rows[clashes[0].field].input.focus()
            return
        super().go_next()

    def page_resumed(self) -> None:
        super().page_resumed()
        self.query_one("#prerequisites-intro", Static).update(self._intro())
        for key in RPC_FIELDS:  # the live lines pause while the page is hidden
            self._check_url(key)
