"""The web archive in a real browser: Debian's headless Chromium driven by selenium.

It opens the list, applies a filter with the form, follows a story to its page and finds every
outlet that carried it; a hostile title shows as text and runs nothing; the pages fit a phone's
width. Screenshots go to the test's temporary folder. Skipped (with the reason) where Chromium
or its driver is not installed; CI installs both.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_web import NOW, TOPICS, build_archive, hostile_title, plain, story_of

from bot.storage.db import Database
from bot.web import WebServer
from bot.web.present import printable_text

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="headless browser tests need Debian's chromium and chromium-driver"
           " (apt-get install -y chromium chromium-driver)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=412,915")  # a phone's viewport


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "pressbot.db"
    asyncio.run(build_archive(path))
    return path


def browser(folder: Path):
    pytest.importorskip("selenium", reason="selenium (the test extra) is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={folder / 'profile'}")  # a fresh profile
    service = Service(executable_path=DRIVER, log_output=str(folder / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


def fits_width(driver) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")


def browse(base: str, shots: Path, story_title: str, hostile_id: int, hostile: str) -> dict:
    """What the browser saw; the assertions on it are the test's."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    seen: dict = {}
    driver = browser(shots)
    try:
        driver.get(base + "/")
        seen["index_title"] = driver.title
        seen["index_stories"] = len(driver.find_elements(By.CSS_SELECTOR, "a.story-link"))
        seen["index_fits"] = fits_width(driver)
        driver.save_screenshot(str(shots / "1-index.png"))
        # a filter from the form: a topic and a place, as a visitor would
        Select(driver.find_element(By.ID, "topic")).select_by_value("trade")
        driver.find_element(By.ID, "place").send_keys("Беларусь")
        driver.find_element(By.ID, "apply").click()
        WebDriverWait(driver, 15).until(lambda d: "topic=trade" in d.current_url)
        seen["filtered_url"] = driver.current_url
        links = driver.find_elements(By.CSS_SELECTOR, "a.story-link")
        seen["filtered_titles"] = [a.text for a in links]
        driver.save_screenshot(str(shots / "2-filtered.png"))
        next(a for a in links if a.text == story_title).click()
        WebDriverWait(driver, 15).until(lambda d: "/story/" in d.current_url)
        seen["story_heading"] = driver.find_element(By.ID, "title").text
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.outlet")
        seen["outlets"] = [r.find_element(By.CSS_SELECTOR, ".outlet-name").text for r in rows]
        seen["links"] = [a.get_attribute("href")
                         for a in driver.find_elements(By.CSS_SELECTOR, "a.outlet-link")]
        seen["marks"] = [r.find_element(By.CSS_SELECTOR, "td:last-child span").text
                         for r in rows]
        seen["story_fits"] = fits_width(driver)
        driver.save_screenshot(str(shots / "3-story.png"))
        # the hostile title: shown as text, nothing runs
        driver.get(f"{base}/story/{hostile_id}")
        seen["hostile_heading"] = driver.find_element(By.ID, "title").text
        seen["scripts"] = len(driver.find_elements(By.TAG_NAME, "script"))
        try:
            driver.switch_to.alert.dismiss()
            seen["alert"] = True
        except NoAlertPresentException:
            seen["alert"] = False
        driver.save_screenshot(str(shots / "4-hostile.png"))
        # the charts load as images
        driver.get(base + "/trends")
        seen["charts"] = [driver.execute_script("return arguments[0].naturalWidth", img)
                          for img in driver.find_elements(By.CSS_SELECTOR, "img.chart")]
        seen["trends_fits"] = fits_width(driver)
        driver.save_screenshot(str(shots / "5-trends.png"))
    finally:
        driver.quit()
    return seen


async def test_browser_filters_and_follows_a_story_to_every_outlet(archive, tmp_path):
    archive_file = archive
    db = await Database.open(archive_file)
    server = WebServer(db, port=0, topics=TOPICS, clock=lambda: NOW)
    await server.start()
    try:
        belarus = story_of(archive_file, "https://tomsk.gov.example/news/belarus")
        evil = story_of(archive_file, "https://evil.example/news/1")
        (title,) = plain(archive_file, "SELECT title FROM stories WHERE id = ?", (belarus,))[0]
        hostile = printable_text(hostile_title(archive_file))
        seen = await asyncio.to_thread(browse, f"http://127.0.0.1:{server.port}", tmp_path,
                                       title, evil, hostile)
    finally:
        await server.stop()
        await db.close()
    stories = plain(archive_file, "SELECT COUNT(*) FROM stories")[0][0]
    assert seen["index_title"].startswith("Последние сюжеты")
    assert seen["index_stories"] == stories
    assert "place=%D0%91%D0%B5%D0%BB%D0%B0%D1%80%D1%83%D1%81%D1%8C" in seen["filtered_url"]
    expected = {r[0] for r in plain(
        archive_file, "SELECT s.title FROM stories s WHERE s.first_article_id IN (SELECT"
        " article_id FROM article_topics WHERE topic_id = 'trade') AND s.first_article_id IN"
        " (SELECT article_id FROM article_entities WHERE kind = 'place' AND name = 'Беларусь')")}
    assert set(seen["filtered_titles"]) == expected and title in expected
    assert seen["story_heading"] == title
    carried = plain(archive_file, "SELECT url FROM articles WHERE story_id = ? ORDER BY"
                                  " COALESCE(published_at, fetched_at)", (belarus,))
    assert len(carried) == 2
    assert seen["outlets"] == [urlsplit(u).hostname for (u,) in carried]
    assert seen["links"] == [u for (u,) in carried]
    assert seen["marks"][0] == "первая публикация" and seen["marks"][1].startswith("перепечатка")
    assert seen["hostile_heading"] == hostile.strip()
    assert seen["scripts"] == 0 and seen["alert"] is False
    assert seen["charts"] == [800, 800]
    assert seen["index_fits"] and seen["story_fits"] and seen["trends_fits"]
    for name in ("1-index", "2-filtered", "3-story", "4-hostile", "5-trends"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
