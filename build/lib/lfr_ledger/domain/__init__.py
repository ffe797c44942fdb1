"""The case ledger's domain: aggregates, events, value objects, policy rules and commands.

Nothing here imports from the other packages, nor from Litestar, OpenCV or a database driver.
"""
