"""Turning validation errors into sentences a person can act on."""

from django.core.exceptions import ValidationError


def error_sentence(error: ValidationError) -> str:
    """A ValidationError as one readable sentence, naming the fields."""
    if hasattr(error, "error_dict"):
        parts = []
        for field, errors in error.message_dict.items():
            label = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
            parts.extend(f"{label}{message}" for message in errors)
        return " ".join(parts)
    return " ".join(error.messages)
