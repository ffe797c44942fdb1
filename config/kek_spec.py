"""`LFR_KEK`: where the key-encryption key that wraps the vault's keys comes from.

Three forms, each checked here so a misspelt one is one clear line at start:

- `file:/etc/lfr-ledger/kek`: a 32-byte key in a file outside the data folder.
- `credential:NAME`: the file systemd's `LoadCredential=NAME:…` hands the unit
  (`$CREDENTIALS_DIRECTORY/NAME`), for a service with a dynamic user that cannot read root's files.
- `pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=lfr;label=lfr-kek`: an AES key held by a
  PKCS#11 token; `pin-file=PATH` optionally names the PIN's file (else `LFR_KEK_PIN_FILE`).

Unset: the embedded default, a key file beside the data folder (`<LFR_DATA_DIR>.kek`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PKCS11_FIELDS = ("module", "token", "label")
PKCS11_OPTIONAL = ("pin-file",)


@dataclass(frozen=True)
class KekSpec:
    kind: str  # "file", "credential" or "pkcs11"
    path: Path | None = None  # file: the key file; credential: its name
    module: Path | None = None
    token: str = ""
    label: str = ""
    pin_file: Path | None = None

    def describe(self) -> str:
        """How the KEK is named in messages: never a PIN, never key material."""
        if self.kind == "pkcs11":
            return f"PKCS#11 key {self.label!r} on token {self.token!r}"
        return f"{'credential' if self.kind == 'credential' else 'key file'} {self.path}"


def parse_kek_spec(text: str, name: str = "LFR_KEK") -> KekSpec:
    """A `KekSpec` from its text; ValueError naming `name` and the accepted forms otherwise."""
    kind, sep, rest = text.strip().partition(":")
    forms = (
        "file:/path/to/kek, credential:NAME, or "
        "pkcs11:module=/path/to/lib.so;token=LABEL;label=KEY-LABEL"
    )
    if not sep or not rest.strip():
        raise ValueError(f"{name} must be {forms}, not {text!r}")
    rest = rest.strip()
    if kind == "file":
        path = Path(rest)
        if not path.is_absolute():
            raise ValueError(f"{name} names a relative path {rest!r}: give the file's full path")
        return KekSpec("file", path=path)
    if kind == "credential":
        if "/" in rest:
            raise ValueError(f"{name} credential:NAME takes a credential's name, not a path")
        return KekSpec("credential", path=Path(rest))
    if kind != "pkcs11":
        raise ValueError(f"{name} must be {forms}, not {text!r}")
    fields: dict[str, str] = {}
    for part in (p.strip() for p in rest.split(";")):
        key, eq, value = part.partition("=")
        if not part:
            continue
        if not eq or key not in PKCS11_FIELDS + PKCS11_OPTIONAL or not value.strip():
            raise ValueError(
                f"{name} pkcs11: each part is module=…, token=…, label=… or pin-file=…, "
                f"not {part.split('=', 1)[0]!r}"
            )
        fields[key] = value.strip()
    missing = [f for f in PKCS11_FIELDS if f not in fields]
    if missing:
        raise ValueError(f"{name} pkcs11: lacks {', '.join(missing)} (module, token and label)")
    return KekSpec(
        "pkcs11",
        module=Path(fields["module"]),
        token=fields["token"],
        label=fields["label"],
        pin_file=Path(fields["pin-file"]) if "pin-file" in fields else None,
    )
