"""One controller per resource; api/app.py assembles them."""
