"""The flow designer in Chromium: build a flow by dragging and wiring nodes, see its errors, deploy it."""

import asyncio
import re

from playwright.async_api import Locator, Page, expect

from hub.points import PointUpdate
from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, WAIT_MS, login, screenshot
from tests.ui_site import slots

pytestmark = SHARED_LOOP

POINT = "vav-2.zone_setpoint"
XY = (("x", "width"), ("y", "height"))
EXPECTED_YAML = """\
flow:
  id: designer_e2e
  name: Designer test
nodes:
  - {id: constant_1, type: constant, value: 23.5, ui: {x: 40, y: 60}}
  - {id: point_write_1, type: point_write, point: vav-2.zone_setpoint, priority: 12, ui: {x: 400, y: 60}}
edges:
  - {from: constant_1.value, to: point_write_1.value}
"""


async def drop(page: Page, node_type: str, x: int, y: int) -> None:
    """Drag a node type from the palette onto the canvas, its box's top left corner landing at (x, y)."""
    await page.locator(f'.palette-item[data-type="{node_type}"]').hover()  # may scroll the page
    canvas = await page.locator("#canvas").bounding_box()
    assert canvas is not None
    await page.mouse.down()
    await page.mouse.move(canvas["x"] + x + 60, canvas["y"] + y + 16, steps=4)  # the grab point: 60, 16
    await page.mouse.up()


def dot(page: Page, direction: str, end: str) -> Locator:
    """The dot of port `node.port` (direction "in" or "out") on the canvas."""
    node, port = end.split(".")
    return page.locator(f'.port.{direction}[data-node="{node}"][data-port="{port}"] .dot')


async def wire(page: Page, source: str, target: str) -> None:
    """Drag from output port `node.port` to input port `node.port`."""
    await dot(page, "out", source).drag_to(dot(page, "in", target))


async def click_edge(page: Page, source: str, target: str) -> None:
    """Click halfway between the edge's two ports (a straight edge has no height for locator.click)."""
    ends = [await dot(page, "out", source).bounding_box(), await dot(page, "in", target).bounding_box()]
    middle = [sum(box[axis] + box[size] / 2 for box in ends if box) / 2 for axis, size in XY]
    await page.mouse.click(*middle)


async def set_field(page: Page, name: str, value: str) -> None:
    field = page.get_by_role("form").get_by_label(name, exact=True)
    await field.fill(value)
    await field.dispatch_event("change")


async def test_designer__build_save_deploy_and_the_flow_writes_the_simulator(page: Page, ui_hub: RunningHub):
    hub = ui_hub.hub
    written = asyncio.Event()

    def on_update(update: PointUpdate) -> None:
        if update.point.id == POINT and update.sample.value == 23.5:
            written.set()

    unsubscribe = hub.bus.subscribe(PointUpdate, on_update)
    errors: list[Exception] = []
    page.on("pageerror", lambda error: errors.append(error))
    await login(page, "otto")
    await page.goto("/flows")
    await page.get_by_role("link", name="New flow").click()
    await page.get_by_label("Flow id").fill("designer_e2e")
    await page.get_by_label("Name", exact=True).fill("Designer test")

    await drop(page, "constant", 40, 60)
    await expect(page.get_by_role("group", name="node constant_1")).to_be_visible()
    await set_field(page, "value", "23.5")
    await drop(page, "point_write", 400, 60)
    await set_field(page, "priority", "99")  # inline check: out of range
    await expect(page.get_by_role("form").get_by_role("alert")).to_contain_text("expected at most 16")
    await set_field(page, "priority", "12")
    await wire(page, "constant_1.value", "point_write_1.value")
    await expect(page.locator("path.edge")).to_have_count(1)
    await click_edge(page, "constant_1.value", "point_write_1.value")  # select it, delete it, wire it again
    await page.get_by_role("button", name="Delete edge").click()
    await expect(page.locator("path.edge")).to_have_count(0)
    await wire(page, "constant_1.value", "point_write_1.value")
    await expect(page.locator("path.edge")).to_have_count(1)

    # A boolean output into a number input is refused, with the reason.
    await drop(page, "compare", 40, 260)
    await wire(page, "compare_1.result", "compare_1.a")
    await expect(page.locator("#designer-message")).to_contain_text(
        "Cannot connect compare_1.result (boolean) to compare_1.a (number)"
    )
    await expect(page.locator("path.edge")).to_have_count(1)

    choices = "e => [...e.options].map(o => o.value)"
    assert await page.get_by_role("form").get_by_label("operator").evaluate(choices) == [
        "", ">", ">=", "<", "<=", "==", "!=",
    ]  # fmt: skip
    # Saved without the point (and with compare's operator missing): the errors are on the canvas.
    await page.get_by_role("button", name="Save").click()
    writer = page.get_by_role("group", name="node point_write_1")
    await expect(writer).to_have_class(re.compile(r"\bhas-error\b"))
    await expect(writer.locator(".node-error")).to_contain_text("point")
    await expect(page.get_by_role("group", name="node compare_1")).to_have_class(re.compile(r"\bhas-error\b"))
    inline = page.get_by_role("form", name="parameters of compare_1").locator(".field-error:not(:empty)")
    await expect(inline).to_have_text("required")  # the server's message, under the operator field
    await screenshot(page, "designer-errors")
    await page.get_by_role("group", name="node compare_1").locator(".node-head").click()
    await page.get_by_role("button", name="Delete node").click()
    await expect(page.get_by_role("group", name="node compare_1")).to_have_count(0)

    await writer.locator(".node-head").click()
    await set_field(page, "point", POINT)
    await expect(page.locator(f'#points-datalist option[value="{POINT}"]')).to_have_count(1)  # the picker
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#designer-message")).to_contain_text("valid")
    assert await page.locator("#yaml").text_content() == EXPECTED_YAML

    await page.get_by_label("Version note").fill("setpoint from the designer")
    await page.get_by_role("button", name="Deploy").click()
    await expect(page.locator("#designer-message")).to_contain_text("Deployed: version")
    assert hub.flows.checked.files["flows/designer_e2e.yaml"] == EXPECTED_YAML
    assert (await hub.flows.versions())[-1].note == "setpoint from the designer"
    try:
        async with asyncio.timeout(WAIT_MS / 1000):
            await written.wait()
    finally:
        unsubscribe()
    assert (await slots(ui_hub, POINT))[11] == 23.5
    # Live: the nodes show their latest values and the run is listed.
    await expect(page.get_by_label("live values of constant_1")).to_contain_text("value=23.5")
    await expect(page.get_by_role("list", name="Last runs")).to_contain_text("constant_1")
    await screenshot(page, "designer")

    # Moving a node and deploying again changes one line: the version's diff shows just that.
    head = writer.locator(".node-head")
    await head.hover()
    await page.mouse.down()
    box = await head.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2 + 100, steps=4)
    await page.mouse.up()
    await page.get_by_label("Version note").fill("moved the writer")
    await page.get_by_role("button", name="Deploy").click()
    await expect(page.locator("#designer-message")).to_contain_text("Deployed: version 2")

    await page.goto("/flows")
    versions = page.get_by_role("table", name="Flow versions")
    await expect(versions).to_contain_text("moved the writer")
    await versions.get_by_role("link", name="2", exact=True).click()
    diff = page.get_by_label("Diff")
    await expect(diff.locator(".del")).to_have_count(1)
    await expect(diff.locator(".add")).to_have_count(1)
    await expect(diff.locator(".add")).to_contain_text("ui: {x: 430, y: 160}")
    await screenshot(page, "flows-version")
    await page.get_by_role("link", name="1", exact=True).click()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="Roll back to version 1…").click()
    await expect(page.locator("#rollback-result")).to_contain_text("Rolled back: now version 3")
    assert "y: 60}}" in hub.flows.checked.files["flows/designer_e2e.yaml"]

    await page.goto("/flows")
    row = page.get_by_role("table", name="Flows").locator('tr[data-flow="designer_e2e"]')
    await expect(row).to_contain_text("running")
    await expect(page.get_by_role("button", name="Start designer_e2e", exact=True)).to_be_disabled()
    await page.get_by_role("button", name="Stop designer_e2e").click()
    await expect(row).to_contain_text("stopped")
    await expect(page.get_by_role("button", name="Stop designer_e2e", exact=True)).to_be_disabled()
    await expect(page.get_by_role("button", name="Start designer_e2e", exact=True)).to_be_enabled()
    assert (await slots(ui_hub, POINT))[11] is None  # stopping relinquished its priority
    await screenshot(page, "flows")
    assert not errors  # no script error on any page


BLUEPRINT = """\
blueprint:
  name: Constant setpoint
  inputs:
    target: {type: point, description: the setpoint to hold}
    value: {type: number, default: 21}
nodes:
  - {id: v, type: constant, value: !input value, ui: {x: 40, y: 40}}
  - {id: w, type: point_write, point: !input target, priority: 14, ui: {x: 360, y: 40}}
edges:
  - {from: v.value, to: w.value}
"""
INSTANCE = """\
flow: {id: vav_3_sp, name: VAV 3 setpoint}
use_blueprint:
  path: const_sp.yaml
  inputs: {target: vav-3.zone_setpoint, value: 20.5}
"""


async def test_designer__an_instance_shows_its_inputs_live_values_dry_run_and_replay(
    page: Page, ui_hub: RunningHub
):
    await ui_hub.hub.flows.deploy({"const_sp.yaml": BLUEPRINT, "vav_3_sp.yaml": INSTANCE}, "otto", "instance")
    errors: list[Exception] = []
    page.on("pageerror", lambda error: errors.append(error))
    await login(page, "otto")
    await page.goto("/flows/vav_3_sp/edit")
    inputs = page.get_by_role("form", name="blueprint inputs")
    await expect(inputs.get_by_label("target", exact=True)).to_have_value("vav-3.zone_setpoint")
    await expect(inputs.get_by_label("value", exact=True)).to_have_value("20.5")
    await expect(page.get_by_role("group", name="node w")).to_be_visible()  # the blueprint's nodes, shown
    await expect(page.get_by_label("live values of w")).to_contain_text("value=20.5")

    await page.get_by_role("button", name="Start dry run").click()
    result = page.locator("#replay-result")
    await expect(result).to_contain_text("Dry run: writes are recorded, not sent.")
    await expect(page.get_by_role("button", name="Stop dry run (go live)")).to_be_visible()
    await page.get_by_role("button", name="Replay").click()
    await expect(result).to_contain_text("Replay of")
    await expect(result.get_by_role("list", name="Writes")).to_contain_text(
        "vav-3.zone_setpoint ← 20.5 at priority 14"
    )
    await screenshot(page, "designer-instance")
    await page.get_by_role("button", name="Stop dry run (go live)").click()
    await expect(result).to_contain_text("Live again.")
    assert not errors
