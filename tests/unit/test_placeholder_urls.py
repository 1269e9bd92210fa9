"""Which base URLs are placeholders that must never end up in a link on a member's profile."""
from __future__ import annotations

import pytest

from chalicelib.core.config import is_placeholder_url


@pytest.mark.parametrize("url", ["https://yunqiao.example.com", "https://dev.yunqiao.example.com/", "http://example.cn",
                                 "https://example.org:8443/x", "https://corp.invalid", "", None, "not a url",
                                 "https://EXAMPLE.COM."])
def test_placeholders(url):
    assert is_placeholder_url(url)


@pytest.mark.parametrize("url", ["https://yq.your-corp.cn", "https://yq.test", "http://127.0.0.1:8000",
                                 "https://examples.cn", "https://my-example.com"])
def test_real_bases(url):
    assert not is_placeholder_url(url)
