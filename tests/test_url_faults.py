"""One reading of a URL's host and port, worded for the command line and for the ledger."""

import pytest

from crawler.arguments import ArgumentError, check_url
from crawler.url_faults import UrlFault, url_fault, url_problem

CASES = [
    # (URL, fault, check_url's message)
    ("http://[::1/x", UrlFault("host", "Invalid IPv6 URL"), "bad host"),
    ("http://example.com:99999/a", UrlFault("port", "Port out of range 0-65535"), "bad port"),
    (
        "http://example.com:x/a",
        UrlFault("port", "Port could not be cast to integer value as 'x'"),
        "bad port",
    ),
    ("http://example.com:0/a", UrlFault("port", "port 0"), "bad port"),
    ("http://:80/a", UrlFault("host", "no host"), "no host"),
]


@pytest.mark.parametrize(("url", "fault", "message"), CASES)
def test_each_fault_is_named_the_same_way_in_both_wordings(url, fault, message):
    assert url_fault(url) == fault
    assert url_problem(url) == fault.reason
    with pytest.raises(ArgumentError, match=f"^urls: {message} in "):
        check_url(url)


def test_a_usable_url_has_no_fault():
    url = "https://finance.sina.com.cn:443/roll/2024-05-10/doc-iempty0000001.shtml"
    assert url_fault(url) is None
    assert url_problem(url) == ""
    assert check_url(url) == url
