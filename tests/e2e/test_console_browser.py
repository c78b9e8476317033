"""The console in a real browser: an operator finds and pays an order; the Chinese UI renders."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import OPERATOR, ORDER_NOS, PASSWORD, Console

pytestmark = pytest.mark.browser

# Draws a character with the page's own font stack; a missing glyph draws the same "tofu" box
# as U+10FFFD (a private-use code point no font covers), while document.fonts.check() would
# still say true.
DRAW_GLYPHS = """
() => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (text) => {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const g = canvas.getContext("2d");
    g.font = `48px ${font}`;
    g.fillStyle = "#000";
    g.textBaseline = "top";
    g.fillText(text, 4, 4);
    return canvas.toDataURL();
  };
  return {cjk: draw("订"), missing: draw(String.fromCodePoint(0x10FFFD)), blank: draw("")};
}
"""


def sign_in(page: Page, console: Console, *, username: str, password: str, button: str) -> None:
    page.goto(f"{console.base_url}/orders")
    # Not signed in: the board sends the browser to the login page.
    expect(page).to_have_url(re.compile(r"/login\?next=/orders$"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name=button).click()


def test_an_operator_finds_an_order_pays_it_and_sees_the_timeline_grow(
    chromium: Browser, console: Console
) -> None:
    page = chromium.new_page(locale="en-US")
    wanted, other = ORDER_NOS[0], ORDER_NOS[1]
    order_id = console.order_ids[wanted]

    sign_in(page, console, username=OPERATOR, password=PASSWORD, button="Sign in")
    expect(page.get_by_role("heading", name="Order status board")).to_be_visible()

    page.get_by_role("searchbox", name="Search").fill(wanted)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=f"manual · {other}")).to_have_count(0)
    page.get_by_role("link", name=f"manual · {wanted}").click()

    expect(page.get_by_role("heading", name=re.compile(rf"Order #{order_id}\b"))).to_be_visible()
    expect(page.get_by_role("button", name="Void")).to_have_count(0)
    entries = page.get_by_role("list", name="Timeline").get_by_role("listitem")
    expect(entries).to_have_count(1)

    page.get_by_role("button", name="Pay", exact=True).click()

    # Paying records "pay", and review being on, the system's "submit for review" too.
    expect(entries).to_have_count(3)
    expect(page.get_by_role("status")).to_contain_text("Pay: done.")
    expect(page.locator(".order-head .status")).to_have_text("Pending review")
    expect(page.get_by_role("button", name="Pay", exact=True)).to_have_count(0)
    page.close()


def test_the_chinese_console_renders_real_cjk_glyphs(chromium: Browser, console: Console) -> None:
    page = chromium.new_page(locale="zh-CN")
    sign_in(page, console, username=OPERATOR, password=PASSWORD, button="登录")

    expect(page.get_by_role("heading", name="订单看板")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("link", name=re.compile("待付款"))).to_be_visible()

    drawn = page.evaluate(DRAW_GLYPHS)
    assert drawn["cjk"] != drawn["blank"], "the CJK character drew nothing"
    assert drawn["cjk"] != drawn["missing"], (
        "订 renders like the missing-glyph box: no CJK font is installed "
        "(apt-get install fonts-noto-cjk)"
    )
    page.close()


def test_the_board_fits_a_phone_screen_with_orders_as_cards(
    chromium: Browser, console: Console
) -> None:
    page = chromium.new_page(locale="en-US", viewport={"width": 375, "height": 740})
    sign_in(page, console, username=OPERATOR, password=PASSWORD, button="Sign in")
    expect(page.get_by_role("heading", name="Order status board")).to_be_visible()
    fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the board scrolls sideways on a 375 px wide screen"
    row = page.locator("table.orders tbody tr").first
    expect(row).to_have_css("display", "block")
    page.close()
