"""The browser view's access rules (shmtop/serve/access.py): the token and the checks a
request passes before a session starts. The server itself: tests/cli/test_serve.py."""

from __future__ import annotations

from shmtop.serve.access import host_name, is_loopback, new_token, request_refusal, token_matches


def test_tokens_are_fresh_long_and_url_safe() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_only_the_exact_token_matches_and_only_when_changes_are_allowed() -> None:
    token = new_token()
    assert token_matches(token, token)
    for wrong in ("", token[:-1], token + "x", token.upper(), None):
        assert not token_matches(wrong, token)
    assert not token_matches(token, None)  # no --allow-changes: no token opens changes
    assert not token_matches("", None)


def test_loopback_names_and_addresses() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.0.0.1", "example.invalid", "localhost.example", ""):
        assert not is_loopback(host), host
    assert host_name("127.0.0.1:8765") == "127.0.0.1"
    assert host_name("[::1]:8765") == "::1"
    assert host_name("localhost") == "localhost"


def test_a_loopback_server_refuses_other_host_names_and_foreign_origins() -> None:
    assert request_refusal("127.0.0.1:8765", None, bound_to_loopback=True) is None
    assert (
        request_refusal("localhost:8765", "http://localhost:8765", bound_to_loopback=True) is None
    )
    assert request_refusal("evil.example:8765", None, bound_to_loopback=True)  # rebinding
    assert request_refusal("127.0.0.1:8765", "http://evil.example", bound_to_loopback=True)
    assert request_refusal("127.0.0.1:8765", "http://127.0.0.1:9999", bound_to_loopback=True)
    assert request_refusal("127.0.0.1:8765", "null", bound_to_loopback=True)
    # Served beyond loopback (--host), any name may be used, the origin still must match.
    assert request_refusal("box.example:8765", None, bound_to_loopback=False) is None
    assert (
        request_refusal("box.example:8765", "http://box.example:8765", bound_to_loopback=False)
        is None
    )
    assert request_refusal("box.example:8765", "http://evil.example", bound_to_loopback=False)
