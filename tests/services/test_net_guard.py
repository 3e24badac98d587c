"""The SSRF guard: webhook targets that are, or resolve to, non-public addresses are refused
in every spelling, unless private targets are allowed."""

from __future__ import annotations

import pytest

from crm_app.services import net_guard
from crm_app.services.net_guard import TargetRefused, vet_url

PUBLIC = "93.184.215.14"


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: names map to the addresses given; addresses resolve as the system
    resolver reads them (decimal, octal and hex IPv4 included)."""
    answers: dict[str, list[str]] = {}
    real = net_guard.resolve

    def resolve(host: str, port: int) -> list[str]:
        return answers[host] if host in answers else real(host, port)

    monkeypatch.setattr(net_guard, "resolve", resolve)
    return answers


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.8.9.10:8080/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.0.1/", "shared"),  # carrier-grade NAT
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "non-public"),
    ],
)
def test_ipv4_addresses_that_are_not_public_are_refused(url, reason):
    with pytest.raises(TargetRefused) as refused:
        vet_url(url, allow_private=False)
    assert reason in refused.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # decimal
        "http://017700000001/",  # octal, whole
        "http://0177.0.0.1/",  # octal, dotted
        "http://0x7f.0.0.1/",  # hex, dotted
        "http://0x7f000001/",  # hex, whole
        "http://127.1/",  # short form
    ],
)
def test_loopback_in_decimal_octal_hex_and_short_forms_is_refused(url):
    with pytest.raises(TargetRefused) as refused:
        vet_url(url, allow_private=False)
    assert "resolves to 127.0.0.1" in refused.value.message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1]/", "loopback"),
        ("http://[::]/", "unspecified"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd00:ec2::254]/", "private"),  # AWS metadata over IPv6
        ("http://[ff02::1]/", "multicast"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
        ("http://[::ffff:7f00:1]/", "loopback"),  # mapped, in hex
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_ipv6_addresses_that_are_not_public_or_carry_such_an_ipv4_are_refused(url, reason):
    with pytest.raises(TargetRefused) as refused:
        vet_url(url, allow_private=False)
    assert reason in refused.value.message


def test_a_name_resolving_to_a_private_address_is_refused(dns):
    dns["intranet.example.com"] = ["10.1.2.3"]
    with pytest.raises(TargetRefused) as refused:
        vet_url("https://intranet.example.com/hook", allow_private=False)
    assert refused.value.message.startswith("intranet.example.com resolves to 10.1.2.3")


def test_localhost_is_refused_through_the_real_resolver():
    with pytest.raises(TargetRefused, match="loopback"):
        vet_url("http://localhost:3000/hook", allow_private=False)


def test_a_name_with_one_private_answer_among_public_ones_is_refused(dns):
    dns["mixed.example.com"] = [PUBLIC, "127.0.0.1"]
    with pytest.raises(TargetRefused, match="loopback"):
        vet_url("https://mixed.example.com/", allow_private=False)


def test_a_public_name_is_pinned_to_its_vetted_address(dns):
    dns["hooks.example.com"] = [PUBLIC]
    target = vet_url("https://hooks.example.com/in?tenant=7", allow_private=False)
    assert target.pinned_url == f"https://{PUBLIC}:443/in?tenant=7"
    assert target.host_header == "hooks.example.com"
    assert target.sni_hostname == "hooks.example.com"


def test_a_public_ipv6_target_keeps_its_port_and_brackets():
    target = vet_url("http://[2001:4860:4860::8888]:8443/x", allow_private=False)
    assert target.pinned_url == "http://[2001:4860:4860::8888]:8443/x"
    assert target.host_header == "[2001:4860:4860::8888]:8443"
    assert target.sni_hostname is None


def test_allowing_private_targets_lets_loopback_through():
    target = vet_url("http://127.0.0.1:9000/hook", allow_private=True)
    assert target.address == "127.0.0.1"


def test_the_setting_decides_when_not_told(monkeypatch):
    from crm_app.settings import get_settings

    monkeypatch.setattr(get_settings(), "webhooks_allow_private", False)
    with pytest.raises(TargetRefused):
        vet_url("http://127.0.0.1/")
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)
    assert vet_url("http://127.0.0.1/").address == "127.0.0.1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Give the URL"),
        ("ftp://example.com/", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://user:pass@example.com/", "user names and passwords"),
        ("http:///path", "host name"),
        ("http://example.com:99999/", "port"),
        ("http://exa mple.com/", "does not look like a URL"),
    ],
)
def test_urls_that_are_not_http_targets_are_refused_with_a_reason(url, message):
    with pytest.raises(TargetRefused, match=message):
        vet_url(url, allow_private=True)


def test_a_name_that_does_not_resolve_is_refused(dns):
    with pytest.raises(TargetRefused, match="could not be found"):
        vet_url("http://no-such-host.invalid/", allow_private=False)
