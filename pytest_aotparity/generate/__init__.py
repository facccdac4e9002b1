"""Requests generated from the app's OpenAPI document, sent to both builds."""
