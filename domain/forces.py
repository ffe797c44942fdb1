"""The register of police forces: a closed list of codes and names, read from the policy.

A force is named by its code wherever the ledger records one (an operation's force, a
deployment's controlling and equipment-owner forces), so "Northants Police" and
"Northamptonshire Police" can no longer be two forces, and mutual aid is decided by comparing
codes. The exact registered name is accepted too and recorded as its code.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lfr_ledger.domain.errors import InvalidInput, PolicyViolation

# A force's code: short, lower case, the same in the policy, the log and every reply.
FORCE_CODE_RULE = "1 to 32 of the characters a-z 0-9 _, beginning with a letter"
_FORCE_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")

# The 43 territorial police forces of England and Wales, and one fictional force for
# demonstrations and tests. A policy file with no [forces] section gets this register.
DEFAULT_FORCES: Mapping[str, str] = {
    "avon_and_somerset": "Avon and Somerset Constabulary",
    "bedfordshire": "Bedfordshire Police",
    "cambridgeshire": "Cambridgeshire Constabulary",
    "cheshire": "Cheshire Constabulary",
    "city_of_london": "City of London Police",
    "cleveland": "Cleveland Police",
    "cumbria": "Cumbria Constabulary",
    "derbyshire": "Derbyshire Constabulary",
    "devon_and_cornwall": "Devon and Cornwall Police",
    "dorset": "Dorset Police",
    "durham": "Durham Constabulary",
    "dyfed_powys": "Dyfed-Powys Police",
    "essex": "Essex Police",
    "gloucestershire": "Gloucestershire Constabulary",
    "greater_manchester": "Greater Manchester Police",
    "gwent": "Gwent Police",
    "hampshire": "Hampshire and Isle of Wight Constabulary",
    "hertfordshire": "Hertfordshire Constabulary",
    "humberside": "Humberside Police",
    "kent": "Kent Police",
    "lancashire": "Lancashire Constabulary",
    "leicestershire": "Leicestershire Police",
    "lincolnshire": "Lincolnshire Police",
    "merseyside": "Merseyside Police",
    "metropolitan": "Metropolitan Police Service",
    "norfolk": "Norfolk Constabulary",
    "north_wales": "North Wales Police",
    "north_yorkshire": "North Yorkshire Police",
    "northamptonshire": "Northamptonshire Police",
    "northumbria": "Northumbria Police",
    "nottinghamshire": "Nottinghamshire Police",
    "south_wales": "South Wales Police",
    "south_yorkshire": "South Yorkshire Police",
    "staffordshire": "Staffordshire Police",
    "suffolk": "Suffolk Constabulary",
    "surrey": "Surrey Police",
    "sussex": "Sussex Police",
    "thames_valley": "Thames Valley Police",
    "warwickshire": "Warwickshire Police",
    "west_mercia": "West Mercia Police",
    "west_midlands": "West Midlands Police",
    "west_yorkshire": "West Yorkshire Police",
    "wiltshire": "Wiltshire Police",
    "demo": "Demonstration Constabulary (fictional)",
}


@dataclass(frozen=True)
class ForceRegister:
    """The forces a policy knows, code -> name."""

    names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FORCES))

    @classmethod
    def parse(cls, table: Mapping[str, object]) -> ForceRegister:
        """The policy's [forces] table, each code checked and each name given once."""
        names: dict[str, str] = {}
        for code, name in table.items():
            if _FORCE_CODE.fullmatch(code) is None:
                raise InvalidInput(f"forces: {code!r} is not a force code ({FORCE_CODE_RULE})")
            if not isinstance(name, str) or not name.strip():
                raise InvalidInput(f"forces.{code} must be the force's name")
            if name.strip() in names.values():
                raise InvalidInput(f"forces: the name {name.strip()!r} is given to two codes")
            names[code] = name.strip()
        if not names:
            raise InvalidInput("forces: the register names no force")
        return cls(names)

    def known_code(self, text: str) -> str | None:
        """The code of the force `text` names, by its code (any case) or its exact registered
        name; None for anything else."""
        given = text.strip()
        if given.casefold() in self.names:
            return given.casefold()
        return next((code for code, name in self.names.items() if name == given), None)

    def code_of(self, text: str, field_name: str, version: str) -> str:
        """The code of the force `text` names (`known_code`). Anything else is refused, with
        the nearest registered forces as a hint."""
        given = text.strip()
        code = self.known_code(given)
        if code is not None:
            return code
        spellings = {code: code for code in self.names}
        spellings |= {name.casefold(): code for code, name in self.names.items()}
        near = difflib.get_close_matches(given.casefold(), list(spellings), n=3, cutoff=0.5)
        nearest = list(dict.fromkeys(spellings[s] for s in near))
        hint = (
            f"; nearest: {', '.join(f'{c} ({self.names[c]})' for c in nearest)}" if nearest else ""
        )
        raise PolicyViolation(
            f"{field_name} {given!r} is not in the register of forces of policy {version}: "
            f"give a force's code or its exact registered name (GET /policy lists them){hint}",
            field=field_name,
        )

    def name_of(self, code: str) -> str:
        """The registered name of `code`; a value the register does not hold (a plan stored
        before the register) as it was written."""
        return self.names.get(code, code)
