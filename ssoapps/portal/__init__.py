"""The end-user portal: sign-in pages (django-allauth), MFA enforcement, app tiles and launches."""
