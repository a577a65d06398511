"""Token vault: encrypted at rest, bound to its row, rotatable."""

from __future__ import annotations

import uuid

import pytest

from domain.vault import TokenVault, VaultError, generate_key

TOKEN = "EAAB" + "x" * 180


def test_roundtrip_and_no_plaintext() -> None:
    vault = TokenVault([generate_key()])
    row = uuid.uuid4()
    sealed = vault.encrypt(TOKEN, row_id=row, purpose="page.token")
    assert TOKEN not in sealed
    assert "EAAB" not in sealed
    assert vault.decrypt(sealed, row_id=row, purpose="page.token") == TOKEN
    # Same plaintext, different ciphertext each time (random nonce).
    assert vault.encrypt(TOKEN, row_id=row, purpose="page.token") != sealed


def test_ciphertext_is_bound_to_row_and_purpose() -> None:
    vault = TokenVault([generate_key()])
    row = uuid.uuid4()
    sealed = vault.encrypt(TOKEN, row_id=row, purpose="page.token")
    with pytest.raises(VaultError):
        vault.decrypt(sealed, row_id=uuid.uuid4(), purpose="page.token")
    with pytest.raises(VaultError):
        vault.decrypt(sealed, row_id=row, purpose="meta_connection.token")


def test_rotation_reads_old_keys_and_writes_the_newest() -> None:
    old, new = generate_key(), generate_key()
    row = uuid.uuid4()
    sealed_old = TokenVault([old]).encrypt(TOKEN, row_id=row, purpose="p")
    both = TokenVault([new, old])
    assert not both.is_current(sealed_old)
    rotated = both.reencrypt(sealed_old, row_id=row, purpose="p")
    assert both.is_current(rotated)
    assert TokenVault([new]).decrypt(rotated, row_id=row, purpose="p") == TOKEN
    with pytest.raises(VaultError):
        TokenVault([new]).decrypt(sealed_old, row_id=row, purpose="p")


@pytest.mark.parametrize("bad", ["", "short", "!!!notbase64!!!"])
def test_bad_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="TOKEN_ENCRYPTION_KEYS"):
        TokenVault([bad] if bad else [])
