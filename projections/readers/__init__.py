"""What analysts and operators read, one reader per read model: a deployment's summary, an
operation's summary, a deployment's alert list, its score distribution and threshold
sensitivity, the publication records, and a period's figures. Each is built only from the
views, which hold no personal data, and returns one of the typed replies of
`projections/summaries.py`; `statistics.py` holds them together as the one reader the API and
the CLI use."""
