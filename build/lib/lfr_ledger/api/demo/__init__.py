"""The demo: the seed operation of DESIGN.md, and the live matching run."""
