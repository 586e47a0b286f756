"""The intake page in a real browser: headless Chromium driven by Selenium, against a running
`eligibility serve` (Chromium and chromedriver from the OS packages: `apt-get install chromium
chromium-driver`). Run with `python -m pytest -m browser -n0`; CI runs them as a step of its own.

With ELIGIBILITY_SCREENSHOTS=DIR the tests save the screenshots of docs/ there (phone-sized).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_serve import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # slow: out of the inner loop's `-m "not slow ..."` too

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)", allow_module_level=True)

PHONE = (412, 915)
"""A phone's screen in CSS pixels (Pixel 7)."""

# A Honduran adult who entered between ports on 2019-12-01 through Guatemala and Mexico, with none
# of the exceptions: transferred to Guatemala under the Guatemala ACA and its implementing rule
# (84 FR 63994: entries from 2019-11-19).
HN_ADULT = {
    "entry.date": "2019-12-01",
    "nationalities": "HN",
    "decision_date": "2019-12-01",
    "age": "30",
    "unaccompanied": "n",
    "family_unit": "n",
    "documents": "none",
    "public_interest": "n",
    "entry.border": "southern_land",
    "entry.place": "between_ports",
    "fear_established_in": "none",
    "trafficking_victim": "n",
    "transit": "GT, MX",
    "habitual_residence": "HN",
}


HN_ADULT_BY_NAME = {**HN_ADULT, "nationalities": "Honduras", "transit": "Guatemala, Mexico",
                    "habitual_residence": "Honduras"}
"""The same, with countries named as a person would name them, in English."""

HN_ADULT_EN_ESPANOL = {**HN_ADULT, "nationalities": "honduras", "transit": "Guatemala, México"}
"""The same, in Spanish words."""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server() as (url, _process):
        yield url


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def browser(downloads: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={PHONE[0]},{PHONE[1]}", "--lang=en-US"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(*PHONE)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Any, seconds: float = 20) -> Any:
    return WebDriverWait(driver, seconds).until(condition)


def _screenshot(driver: Any, name: str) -> None:
    folder = os.environ.get("ELIGIBILITY_SCREENSHOTS")
    if folder:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(PHONE[0], max(PHONE[1], min(height + 20, 2400)))
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.3)
        driver.save_screenshot(str(Path(folder) / name))
        driver.set_window_size(*PHONE)


def _renders(driver: Any) -> int:
    return int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-renders") or 0)


def _question_or_result(driver: Any, after: int) -> tuple[str, int] | None:
    """Once the page has shown more than ``after`` questions and answers: the field of the question
    shown and the count, or None when the answer is shown."""

    def ready(d: Any) -> Any:
        count = _renders(d)
        if count <= after or d.find_element(By.TAG_NAME, "body").get_attribute("aria-busy") == "true":
            return False
        if d.find_element(By.ID, "result").is_displayed():
            return "result"
        return (d.find_element(By.ID, "field").get_attribute("data-field"), count)

    got = _wait(driver, ready)
    return None if got == "result" else got


def _answer(driver: Any, field: str, facts: dict[str, str]) -> None:
    """Answer as a person would: click the option, or type; "Don't know" where the fact is not known."""
    value = facts.get(field)
    if value is None:
        driver.find_element(By.ID, "dontknow").click()
        return
    radios = driver.find_elements(By.CSS_SELECTOR, "#field input[type=radio]")
    if radios:
        values = [r.get_attribute("value") for r in radios]
        shown = driver.find_element(By.ID, "field").get_attribute("data-field")
        assert value in values, f"{field} (shown: {shown}): {value!r} is not one of {values}"
        chosen = radios[values.index(value)]
        driver.find_element(By.CSS_SELECTOR, f"label[for={chosen.get_attribute('id')}]").click()
    else:
        box = driver.find_element(By.ID, "answer")
        box.clear()
        box.send_keys(value)
    driver.find_element(By.ID, "next").click()


def _intake(driver: Any, facts: dict[str, str], first_shot: str | None = None) -> list[str]:
    """Go from the first question to the answer; the fields asked, in order."""
    asked: list[str] = []
    count = 0
    for _ in range(40):
        shown = _question_or_result(driver, count)
        if shown is None:
            return asked
        count = shown[1]
        if first_shot and driver.find_elements(By.CSS_SELECTOR, "#field input[type=radio]"):
            _screenshot(driver, first_shot)  # the first question with options to choose from
            first_shot = None
        asked.append(shown[0])
        _answer(driver, shown[0], facts)
    raise AssertionError(f"no answer after {asked}")


def _result(driver: Any) -> dict[str, Any]:
    return {
        "headline": driver.find_element(By.ID, "headline").text,
        "evidence": driver.find_element(By.ID, "evidence").text,
        "short": driver.find_element(By.ID, "short").get_attribute("textContent"),
        "lang": driver.find_element(By.TAG_NAME, "html").get_attribute("lang"),
    }


def _wait_for_file(folder: Path, pattern: str) -> Path:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {pattern} in {folder}: {list(folder.iterdir())}")


def test_an_intake_in_english_from_the_first_question_to_the_answer(browser: Any, base_url: str, downloads: Path) -> None:
    browser.get(base_url + "/?lang=en")
    asked = _intake(browser, HN_ADULT_BY_NAME, first_shot="intake-question.png")
    assert asked[0] == "entry.date"
    assert len(asked) == len(set(asked))  # nothing is asked twice
    result = _result(browser)
    assert result["headline"] == "TRANSFER to Guatemala (GT)"
    assert result["lang"] == "en"
    assert result["evidence"].startswith("Evidence secondary")
    assert "Why:" in result["short"]
    assert browser.switch_to.active_element.get_attribute("id") == "headline"  # focus moves to the answer
    _screenshot(browser, "intake-answer.png")

    browser.find_element(By.ID, "memo").click()
    memo = _wait_for_file(downloads, "memo-*.html")
    text = memo.read_text(encoding="utf-8")
    assert 'lang="en"' in text and "Guatemala" in text
    browser.find_element(By.ID, "record").click()
    record = json.loads(_wait_for_file(downloads, "record-*.json").read_text(encoding="utf-8"))
    assert (record["outcome"], record["transfer_to"]) == ("transfer", ["GT"])
    assert [a["field"] for a in record["answers"]] == asked
    given = {a["field"]: a["value"] for a in record["answers"]}
    assert given["nationalities"] == ["HN"]  # the country named is sent as its code
    if "transit" in given:  # asked only while it can change the answer
        assert [stop["country"] for stop in given["transit"]] == ["GT", "MX"]


def test_an_intake_in_spanish_gives_the_answer_in_spanish(browser: Any, base_url: str, downloads: Path) -> None:
    browser.get(base_url + "/?lang=en")
    _wait(browser, lambda d: d.find_element(By.ID, "answer").is_displayed())
    browser.find_element(By.CSS_SELECTOR, "button.lang[data-lang=es]").click()
    _wait(browser, lambda d: d.find_element(By.ID, "next").text == "Siguiente")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    _intake(browser, HN_ADULT_EN_ESPANOL)
    result = _result(browser)
    assert result["headline"] == "TRASLADO a Guatemala (GT)"
    assert result["lang"] == "es" and "Por qué:" in result["short"]
    assert result["evidence"].startswith("Evidencia secundaria")
    _screenshot(browser, "intake-answer-es.png")
    browser.find_element(By.ID, "memo").click()
    assert 'lang="es"' in _wait_for_file(downloads, "memo-*-es.html").read_text(encoding="utf-8")


def test_dont_know_to_every_question_ends_undetermined(browser: Any, base_url: str) -> None:
    browser.get(base_url + "/?lang=en")
    asked = _intake(browser, {"entry.date": "2019-12-01"})
    assert len(asked) > 3
    result = _result(browser)
    assert result["headline"] == "UNDETERMINED"
    # the short answer says what is still unknown; the nationality is one of the facts that would settle it
    assert "nationalities" in result["short"]
    given = browser.find_element(By.ID, "given").text
    assert given.count("don\u2019t know") == len(asked) - 1
    _screenshot(browser, "intake-undetermined.png")


def test_a_bad_answer_is_said_and_asked_again(browser: Any, base_url: str) -> None:
    browser.get(base_url + "/?lang=en")
    _wait(browser, lambda d: d.find_element(By.ID, "answer").is_displayed())
    browser.find_element(By.ID, "dontknow").click()  # the date of entry cannot be left unknown
    error = _wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error"))
    assert "date of entry is needed" in error.text
    box = browser.find_element(By.ID, "answer")
    box.send_keys("2019-31-12")
    browser.find_element(By.ID, "next").click()
    _wait(browser, lambda d: "2019-31-12" in d.find_element(By.ID, "error").text)
    assert browser.find_element(By.ID, "field").get_attribute("data-field") == "entry.date"


def test_the_page_works_from_the_keyboard_alone(browser: Any, base_url: str) -> None:
    browser.get(base_url + "/?lang=en")
    _wait(browser, lambda d: d.find_element(By.ID, "answer").is_displayed())
    count = 0
    typed = {"entry.date": "2019-12-01", "nationalities": "HN", "decision_date": "2019-12-01", "age": "30"}
    chose_by_keys = False
    for _ in range(12):
        shown = _question_or_result(browser, count)
        assert shown is not None
        count = shown[1]
        focused = browser.switch_to.active_element  # each new question has the focus
        assert focused.get_attribute("name") == "answer", shown
        if focused.get_attribute("type") == "radio":
            # arrows move within the options, Space chooses, Enter sends the form
            focused.send_keys(Keys.ARROW_DOWN)
            browser.switch_to.active_element.send_keys(Keys.SPACE, Keys.ENTER)
            chose_by_keys = True
            break
        focused.send_keys(typed[shown[0]], Keys.ENTER)
    assert chose_by_keys
    after = _question_or_result(browser, count)
    given = browser.find_element(By.ID, "given").text
    assert after is not None and after[0] != shown[0]
    # the second option of the question answered by keys is recorded
    assert given.count("\n") + 1 == len(typed) + 1
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.tag_name in ("input", "button")


def _labelled(driver: Any) -> None:
    for element in driver.find_elements(By.CSS_SELECTOR, "input, select"):
        element_id = element.get_attribute("id")
        assert element_id and driver.find_elements(By.CSS_SELECTOR, f"label[for='{element_id}']"), element_id


def test_every_field_has_a_label_and_fits_a_phone(browser: Any, base_url: str) -> None:
    browser.get(base_url + "/?lang=es")
    count = 0
    typed = {"entry.date": "2019-12-01", "nationalities": "HN", "decision_date": "2019-12-01", "age": "30"}
    kinds = set()
    for _ in range(8):
        shown = _question_or_result(browser, count)
        assert shown is not None
        count = shown[1]
        _labelled(browser)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0]  # nothing wider than a phone's screen
        radios = browser.find_elements(By.CSS_SELECTOR, "#field input[type=radio]")
        kinds.add("radio" if radios else "text")
        if radios:
            break
        _answer(browser, shown[0], typed)
    assert kinds == {"radio", "text"}
    assert browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    assert browser.find_element(By.CSS_SELECTOR, "#field legend").text  # a group of options has its question


def test_the_policy_chosen_in_the_settings_decides(browser: Any, base_url: str) -> None:
    from selenium.webdriver.support.ui import Select

    browser.get(base_url + "/?lang=en")
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#policy option")) >= 4)
    browser.find_element(By.CSS_SELECTOR, "#settings summary").click()
    Select(browser.find_element(By.ID, "policy")).select_by_value("implemented")
    # what DHS did: from 2019-11-21 the Guatemala ACA was applied to Honduran single adults
    _intake(browser, HN_ADULT)
    assert _result(browser)["headline"] == "TRANSFER to Guatemala (GT)"
    assert browser.execute_script("return state.last.record.policy") == "implemented"


def test_the_caveats_are_shown_under_the_headline(browser: Any, base_url: str) -> None:
    # A Honduran adult who crossed between ports in June 2025: under Proclamation 10888 (from
    # 2025-01-20) the claim is heard in the U.S. with asylum restricted, while the court case
    # against it (RAICES v. Noem) is pending: a caveat the answer must show.
    browser.get(base_url + "/?lang=en")
    facts = {"entry.date": "2025-06-01", "nationalities": "Honduras", "age": "30", "decision_date": "2025-06-01",
             "entry.border": "southern_land", "entry.place": "between_ports"}
    _intake(browser, facts)
    assert _result(browser)["headline"] == "PROCESS IN THE U.S."
    box = browser.find_element(By.ID, "caveats-box")
    assert box.is_displayed() and "RAICES v. Noem" in box.text
    assert browser.find_element(By.CSS_SELECTOR, "#caveats-box h3").text == "Caveats"
