"""The CaseLedger's commands, one module per family; `domain.application` assembles them."""
