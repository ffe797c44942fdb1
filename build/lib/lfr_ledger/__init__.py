"""lfr-ledger, installed under one name.

The rooms live at the top of the repository (`domain/`, `matching/`, `api/`, ...), as the
design asks; each entry here is a link to one of them, so the installed distribution puts a
single package, `lfr_ledger`, into site-packages and collides with no other package named
`api` or `domain`. Code imports the rooms through this name only.
"""
