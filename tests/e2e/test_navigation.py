"""The main navigation in the browser: the "Manage" menu works from the keyboard, marks the current
section, and the bar stays usable at phone width."""

from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}


def test_a_lead_opens_the_manage_menu_from_the_keyboard(page, login, screenshot, lead):
    manage = page.get_by_test_id("nav-manage")
    login(page, lead)

    # when: the lead tabs to "Manage" and presses Enter
    manage.locator("summary").focus()
    page.keyboard.press("Enter")

    # then: the lead's pages are listed
    expect(page.get_by_test_id("nav-sla")).to_be_visible()
    expect(page.get_by_test_id("nav-reports")).to_be_visible()
    expect(page.get_by_test_id("nav-failed-emails")).to_have_count(0)
    screenshot(page, "nav-01-manage-open")

    # when: Escape closes it, Enter opens it again and Enter on "SLA policies" follows it
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("nav-sla")).to_be_hidden()
    page.keyboard.press("Enter")
    page.get_by_test_id("nav-sla").focus()
    page.keyboard.press("Enter")

    # then: the SLA page is marked as the current section, inside the menu
    page.wait_for_url("**/sla/")
    expect(manage.locator("summary")).to_have_class("is-current")
    expect(page.get_by_test_id("nav-sla")).to_have_attribute("aria-current", "page")
    screenshot(page, "nav-02-sla-current")


def test_the_navigation_wraps_at_phone_width(page, login, screenshot, admin_user):
    login(page, admin_user)
    page.set_viewport_size(PHONE)

    # when: the admin opens the menu on a phone
    page.get_by_test_id("nav-manage").locator("summary").click()

    # then: every link fits the screen, the menu too
    for testid in ("nav-inbox", "nav-kb", "nav-failed-emails"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], testid
    screenshot(page, "nav-03-phone-menu")

    # when: a click elsewhere closes it
    page.locator("main").click(position={"x": 5, "y": 5})

    # then
    expect(page.get_by_test_id("nav-failed-emails")).to_be_hidden()


def test_an_agent_on_a_lead_page_finds_the_way_back(page, login, screenshot, agent):
    login(page, agent)

    # when: the agent opens the SLA page, which is for leads
    response = page.goto("/sla/")

    # then: the 403 page says why, keeps the navigation, and leads back to the inbox
    assert response.status == 403
    expect(page.get_by_test_id("error-page")).to_contain_text("This page is not open to you")
    expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    screenshot(page, "nav-04-forbidden")
    page.get_by_test_id("error-back").click()
    expect(page.get_by_test_id("nav-inbox")).to_have_attribute("aria-current", "page")
