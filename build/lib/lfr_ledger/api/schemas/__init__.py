"""The HTTP API's request and response bodies (msgspec), one module per resource, kept apart
from the domain's types. Analysts' figures are the typed replies of `projections.summaries`.

Field names are the words of the event model. Constraints here are a first, cheap filter that
names the field at fault (HTTP 400); the domain still decides everything it owns (HTTP 4xx).
"""
