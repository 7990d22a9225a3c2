"""A small service-desk web API that embeds itsmcore (see README.md in this folder)."""

from service_desk.app import create_app

__all__ = ["create_app"]
