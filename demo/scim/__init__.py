"""A SCIM 2.0 server standing in for an app's user directory (in memory, built on scim2-server).

It imports nothing from Lanyard: Lanyard reaches it over HTTP, like a real app.
"""
