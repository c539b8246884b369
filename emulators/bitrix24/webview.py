"""Read-only HTML view of the portals (placeholder, filled in below)."""


def render(emulator, path, params):
    return 404, "<h1>Not found</h1>"
