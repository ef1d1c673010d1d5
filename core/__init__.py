"""Cross-cutting building blocks that every Lanyard app may use and that import no Lanyard app.

`core` holds no models and is not an installed app: it is plain code on top of Django and the
libraries Lanyard pins, so `directory`, `ssoapps`, `provisioning` and `insights` can all depend on it
without depending on each other.
"""
