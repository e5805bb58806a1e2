"""The app shell: the welcome screen names the six steps; the devnet choice starts a real node; quitting asks."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from mosaic_tui import devnet
from mosaic_tui.app import MosaicApp
from mosaic_tui.messages import DevnetStarted, ModeChosen
from mosaic_tui.screens.quit import QuitScreen
from mosaic_tui.screens.welcome import WelcomeScreen


def _text(app: MosaicApp) -> str:
    return "\n".join(str(widget.render()) for widget in app.screen.query(Static))


async def test_welcome_names_the_six_steps_and_own_chains(tmp_path: Path) -> None:
    app = MosaicApp(plan_path=tmp_path / "plan.toml")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        text = _text(app)
        for title in ("Prerequisites", "Origin contracts", "Staking", "Auxiliary chain",
                      "Initialize auxiliary", "Rum nodes"):
            assert title in text
        await pilot.press("o")
        await pilot.pause()
        assert f"the plan is read from and saved to {tmp_path / 'plan.toml'}" in _text(app)
        await pilot.press("ctrl+q")  # no devnet of ours: quits at once ("q" would go into the form field)
    assert app.return_code == 0


async def test_devnet_choice_starts_a_node_and_quit_can_stop_it(tmp_path: Path) -> None:
    directory = tmp_path / "devnet"
    messages: list[object] = []
    port = devnet.free_port()  # never the default 8545, which a real devnet of the developer may hold
    app = MosaicApp(plan_path=tmp_path / "plan.toml", devnet_dir=directory, devnet_port=port)
    try:
        async with app.run_test(size=(100, 32), message_hook=messages.append) as pilot:
            await pilot.press("d")
            await app.workers.wait_for_complete()
            await pilot.pause()
            seen = {id(m): m for m in messages if isinstance(m, ModeChosen | DevnetStarted)}  # bubbling repeats
            kinds = [type(m) for m in seen.values()]
            assert kinds == [ModeChosen, DevnetStarted]
            assert f"Local devnet running at http://127.0.0.1:{port}" in _text(app)
            node = devnet.load_record(directory)["origin"]
            assert node.is_ours()

            await pilot.press("ctrl+q")  # "q" would be typed into the focused form field
            await pilot.pause()
            assert isinstance(app.screen, QuitScreen)
            await pilot.click("#stop")
            await pilot.pause()
        assert not node.is_ours()
        assert devnet.load_record(directory) == {}
    finally:
        for leftover in devnet.load_record(directory).values():
            leftover.stop()
