"""A real headless chromium (Debian's, driven by Selenium) for the join-page tests."""

from __future__ import annotations

from sysdeps import CHROMEDRIVER, CHROMIUM, page_replaced


def chromium(lang: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=412,1000", f"--lang={lang}", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(10)  # a form post's answer may still be loading when we look
    return driver


def post_form(driver, button: str) -> None:
    """Click a form's button and wait until the answer has replaced the page: a click does
    not wait for the navigation, and an element found too early belongs to the old page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, button).click()
    WebDriverWait(driver, 15).until(page_replaced(page))
