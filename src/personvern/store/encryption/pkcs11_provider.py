"""Key-encryption keys in a PKCS#11 token: a hardware security module or a cloud HSM.

The KEK is an AES-256 key made inside the token, sensitive and not extractable: data
keys are sent in, wrapped with AES-GCM inside the token, and come back wrapped; the
KEK itself never leaves it. Each version is a key labelled ``<label>-v<N>``; the
highest N is current. Tested against SoftHSM2 (docs/encryption.md).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from personvern.store.encryption.providers import KeyProviderError

_PREFIX = "pkcs11:"
_NONCE = 12


class Pkcs11Provider:
    """Wraps data keys with AES-GCM inside a PKCS#11 token."""

    def __init__(self, module: Path, token_label: str, pin: str, key_label: str) -> None:
        """Log in to the token ``token_label`` of ``module``; make the first KEK if none."""
        try:
            import pkcs11
        except ModuleNotFoundError as exc:
            raise KeyProviderError(
                "PERSONVERN_KEK_PROVIDER=pkcs11 needs python-pkcs11",
                hint="install personvern with its hsm extra: pip install 'personvern[hsm]'",
            ) from exc
        self._pkcs11 = pkcs11
        self.key_label = key_label
        self._lock = threading.Lock()
        try:
            lib = pkcs11.lib(str(module))
            token = lib.get_token(token_label=token_label)
            try:
                self._session = token.open(user_pin=pin, rw=True)
            except pkcs11.UserAlreadyLoggedIn:
                # PKCS#11 logs in per process: a second provider in this process (a
                # rotation next to the server's) shares the login of the first.
                self._session = token.open(rw=True)
        except (pkcs11.PKCS11Error, RuntimeError) as exc:
            raise KeyProviderError(
                f"cannot log in to the PKCS#11 token {token_label!r} with {module}: "
                f"{type(exc).__name__}",
                hint="check PERSONVERN_PKCS11_MODULE, PERSONVERN_PKCS11_TOKEN_LABEL and the PIN",
            ) from exc
        self._keys = self._find()
        if not self._keys:
            self.add_version()

    def _find(self) -> dict[str, Any]:
        pkcs11 = self._pkcs11
        found: dict[int, Any] = {}
        for key in self._session.get_objects(
            {pkcs11.Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY}
        ):
            label = str(key[pkcs11.Attribute.LABEL])
            head, _, number = label.rpartition("-v")
            if head == self.key_label and number.isdigit():
                found[int(number)] = key
        return {f"{_PREFIX}{self.key_label}-v{n}": found[n] for n in sorted(found)}

    def _key(self, kek_id: str) -> Any:
        # Any: python-pkcs11's stubs leave encrypt and decrypt off SecretKey.
        key = self._keys.get(kek_id)
        if key is None:
            raise KeyProviderError(
                f"the PKCS#11 token has no key-encryption key {kek_id}",
                hint="a KEK still in use was deleted from the token; restore it from the "
                "HSM's backup",
            )
        return key

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap ``data_key`` with the current KEK, inside the token."""
        kek_id = self.current()
        nonce = os.urandom(_NONCE)
        with self._lock:
            wrapped = self._key(kek_id).encrypt(
                data_key,
                mechanism=self._pkcs11.Mechanism.AES_GCM,
                mechanism_param=self._pkcs11.GCMParams(nonce, kek_id.encode(), 128),
            )
        return kek_id, nonce + bytes(wrapped)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """Unwrap a key wrapped by ``kek_id``, inside the token."""
        nonce, body = wrapped[:_NONCE], wrapped[_NONCE:]
        try:
            with self._lock:
                data_key = self._key(kek_id).decrypt(
                    body,
                    mechanism=self._pkcs11.Mechanism.AES_GCM,
                    mechanism_param=self._pkcs11.GCMParams(nonce, kek_id.encode(), 128),
                )
        except self._pkcs11.PKCS11Error as exc:
            raise KeyProviderError(
                f"a data key does not unwrap with {kek_id}: {type(exc).__name__}",
                hint="the key store or the token was changed; restore matching backups",
            ) from exc
        return bytes(data_key)

    def current(self) -> str:
        """The highest version."""
        return next(reversed(self._keys))

    def versions(self) -> list[str]:
        """Every version on the token, oldest first."""
        return list(self._keys)

    def add_version(self) -> str:
        """Generate the next KEK version inside the token and make it current."""
        pkcs11 = self._pkcs11
        number = len(self._keys) + 1
        if self._keys:
            number = max(int(k.rpartition("-v")[2]) for k in self._keys) + 1
        with self._lock:
            self._session.generate_key(
                pkcs11.KeyType.AES,
                256,
                label=f"{self.key_label}-v{number}",
                store=True,
                template={
                    pkcs11.Attribute.SENSITIVE: True,
                    pkcs11.Attribute.EXTRACTABLE: False,
                    pkcs11.Attribute.ENCRYPT: True,
                    pkcs11.Attribute.DECRYPT: True,
                },
            )
        self._keys = self._find()
        return self.current()

    def close(self) -> None:
        """Log out of the token."""
        self._session.close()
