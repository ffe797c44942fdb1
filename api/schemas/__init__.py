"""The HTTP API's request and response bodies (msgspec), one module per resource, kept apart
from the domain's types. Analysts' figures are built by the projections and declared in
`projections.summaries`; `statistics.py` names them for the routes. A deployment's history
has one typed shape per event topic (`history.py`).

Field names are the words of the event model. Constraints here are a first, cheap filter that
names the field at fault (HTTP 400); the domain still decides everything it owns (HTTP 4xx).
"""
